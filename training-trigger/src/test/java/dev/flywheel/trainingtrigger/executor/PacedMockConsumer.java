package dev.flywheel.trainingtrigger.executor;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;

/**
 * A {@link MockConsumer} whose polls wait a little when they return nothing, as a real consumer's
 * wait for records, so that a worker polling it in a loop does not spin a core.
 */
class PacedMockConsumer<K, V> extends MockConsumer<K, V> {

  PacedMockConsumer() {
    super("earliest");
  }

  @Override
  public ConsumerRecords<K, V> poll(Duration timeout) {
    ConsumerRecords<K, V> records = super.poll(timeout);
    if (records.isEmpty()) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    return records;
  }
}
