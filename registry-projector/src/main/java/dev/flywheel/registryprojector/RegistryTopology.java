package dev.flywheel.registryprojector;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.topics.AvroSerdeFactory;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The registry projector's wiring, and nothing else.
 *
 * <pre>
 * flywheel.training.runs ── training-run-registrar ──▶ flywheel.registry.commands
 * flywheel.registry.commands ── registry-decider [registry-state, registry-positions,
 *                                                  registry-command-ids, registry-baselines,
 *                                                  registry-versions, registry-artifacts]
 *     ├─▶ flywheel.model.events      (the audit log)
 *     ├─▶ flywheel.model.promoted    (promotion aliases that moved)
 *     └─▶ flywheel.registry.state    (compacted current state)
 * </pre>
 *
 * <p>Completed runs become {@code RegisterVersion} commands on the command topic itself, so the
 * command log holds every registration whoever asked for it, and every command of a model is
 * decided by one task in order.
 */
public final class RegistryTopology {

  /** Source node of the command topic. */
  public static final String COMMANDS_SOURCE = "registry-commands-source";
  /** Source node of the training-run topic. */
  public static final String TRAINING_RUNS_SOURCE = "training-runs-source";
  /** Processor turning completed runs into registrations. */
  public static final String RUN_REGISTRAR = "training-run-registrar";
  /** Sink of those registrations, to the command topic. */
  public static final String RUN_COMMANDS_SINK = "training-run-commands-sink";
  /** The state machine. */
  public static final String DECIDER = "registry-decider";
  /** Sink of the audit log. */
  public static final String MODEL_EVENTS_SINK = "model-events-sink";
  /** Sink of promotions. */
  public static final String MODEL_PROMOTED_SINK = "model-promoted-sink";
  /** Sink of the compacted state topic. */
  public static final String STATE_SINK = "registry-state-sink";
  /** Store: model name → {@link ModelRegistryState}. */
  public static final String STATE_STORE = "registry-state";
  /**
   * Store: model name → the {@link RegistryFold#isEmpty empty} state of a model that is not in
   * {@link #STATE_STORE} (none of its commands was accepted), kept only for its position in the
   * audit log (sequence, event id and time) so that its events number on without a gap.
   */
  public static final String POSITIONS_STORE = "registry-positions";
  /** Store: model name + NUL + command id → sequence of the command's first event. */
  public static final String COMMAND_IDS_STORE = "registry-command-ids";
  /** Store: model name + NUL + version → the version's {@link BaselineProfile}. */
  public static final String BASELINES_STORE = "registry-baselines";
  /**
   * Store: model name + NUL + version → the full {@link ModelVersion} of a version its model's
   * state lists only in {@code older_versions} ({@link VersionSpill}).
   */
  public static final String VERSIONS_STORE = "registry-versions";
  /**
   * Store: model name + NUL + artifact sha256 → the version registered with it, for versions
   * moved to {@link #VERSIONS_STORE}, so that registering the same file again is still refused.
   */
  public static final String ARTIFACTS_STORE = "registry-artifacts";

  private RegistryTopology() {}

  /**
   * The topology.
   *
   * @param config the policies
   * @param topics the topic catalogue (names and value serdes)
   * @param serdes makes the serdes of the stores (whose changelogs hold Avro like the topics)
   */
  public static Topology build(RegistryConfig config, Topics topics, AvroSerdeFactory serdes) {
    Topic<String, RegistryCommand> commands = topics.registryCommands();
    Topic<String, TrainingRun> runs = topics.trainingRuns();
    Topic<String, ModelEvent> events = topics.modelEvents();
    Topic<String, ModelPromoted> promoted = topics.modelPromoted();
    Topic<String, ModelRegistryState> state = topics.registryState();
    Serde<BaselineProfile> baselineSerde = serdes.specific(BaselineProfile.class, false);
    Serde<ModelVersion> versionSerde = serdes.specific(ModelVersion.class, false);
    RegistryDecider decider = new RegistryDecider(config);

    Topology topology = new Topology();
    topology.addSource(TRAINING_RUNS_SOURCE, runs.keySerde().deserializer(),
        runs.valueSerde().deserializer(), runs.name());
    topology.addProcessor(RUN_REGISTRAR, () -> new TrainingRunRegistrar(config::description),
        TRAINING_RUNS_SOURCE);
    topology.addSink(RUN_COMMANDS_SINK, commands.name(), commands.keySerde().serializer(),
        commands.valueSerde().serializer(), RUN_REGISTRAR);

    topology.addSource(COMMANDS_SOURCE, commands.keySerde().deserializer(),
        commands.valueSerde().deserializer(), commands.name());
    topology.addProcessor(DECIDER, () -> new RegistryProcessor(decider, config.stateVersions()), COMMANDS_SOURCE);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), state.valueSerde()),
        DECIDER);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(POSITIONS_STORE), Serdes.String(), state.valueSerde()),
        DECIDER);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(COMMAND_IDS_STORE), Serdes.String(), Serdes.Long()),
        DECIDER);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(BASELINES_STORE), Serdes.String(), baselineSerde),
        DECIDER);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(VERSIONS_STORE), Serdes.String(), versionSerde),
        DECIDER);
    topology.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(ARTIFACTS_STORE), Serdes.String(), Serdes.Integer()),
        DECIDER);
    topology.addSink(MODEL_EVENTS_SINK, events.name(), events.keySerde().serializer(),
        cast(events.valueSerde().serializer()), DECIDER);
    topology.addSink(MODEL_PROMOTED_SINK, promoted.name(), promoted.keySerde().serializer(),
        cast(promoted.valueSerde().serializer()), DECIDER);
    topology.addSink(STATE_SINK, state.name(), state.keySerde().serializer(),
        cast(state.valueSerde().serializer()), DECIDER);
    return topology;
  }

  @SuppressWarnings("unchecked")
  private static Serializer<Object> cast(Serializer<?> serializer) {
    return (Serializer<Object>) serializer;
  }
}
