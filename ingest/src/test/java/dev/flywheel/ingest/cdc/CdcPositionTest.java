package dev.flywheel.ingest.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CdcPositionTest {

  @Test
  void shouldParseDebeziumSequenceOfTwoQuotedLsns() {
    assertThat(CdcPosition.fromSequence("[\"24023928\",\"24023984\"]", 1))
        .isEqualTo(new CdcPosition(24023928, 24023984));
  }

  @Test
  void shouldReadANullCommitLsnAsZero() {
    assertThat(CdcPosition.fromSequence("[null,\"24023984\"]", 1))
        .isEqualTo(new CdcPosition(0, 24023984));
  }

  @Test
  void shouldFallBackToTheChangeLsnWithoutASequence() {
    assertThat(CdcPosition.fromSequence(null, 77)).isEqualTo(new CdcPosition(0, 77));
  }

  @Test
  void shouldOrderByCommitLsnBeforeChangeLsn() {
    // a transaction that wrote earlier in the WAL but committed later comes later in the stream
    CdcPosition committedFirst = new CdcPosition(100, 500);
    CdcPosition committedLater = new CdcPosition(600, 300);
    assertThat(committedFirst).isLessThan(committedLater);
    assertThat(new CdcPosition(100, 500)).isLessThan(new CdcPosition(100, 501));
  }

  @Test
  void shouldNotOrderAPositionWithoutACommitLsnAgainstOneWith() {
    // a change of the first transaction streamed without stored offsets has no commit LSN
    CdcPosition unknown = CdcPosition.fromSequence("[null,\"300\"]", 300);
    CdcPosition known = new CdcPosition(100, 210);
    assertThat(unknown.commitKnown()).isFalse();
    assertThat(unknown.comparableTo(known)).isFalse();
    assertThat(known.comparableTo(unknown)).isTrue();
    assertThat(unknown.comparableTo(CdcPosition.parse("0/290"))).isTrue();
    assertThat(known.comparableTo(new CdcPosition(90, 500))).isTrue();
  }

  @Test
  void shouldRoundTripThroughItsHeaderForm() {
    CdcPosition position = new CdcPosition(24023928, 24023984);
    assertThat(position.toString()).isEqualTo("24023928/24023984");
    assertThat(CdcPosition.parse(position.toString())).isEqualTo(position);
  }

  @Test
  void shouldRejectTextThatIsNotAPosition() {
    assertThatThrownBy(() -> CdcPosition.parse("24023928")).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("<commitLsn>/<lsn>");
    assertThatThrownBy(() -> CdcPosition.fromSequence("[\"1\"]", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two LSNs");
    assertThatThrownBy(() -> CdcPosition.fromSequence("[\"x\",\"1\"]", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an LSN");
  }
}
