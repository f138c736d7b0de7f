package dev.flywheel.trainingtrigger.dataset;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelTask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Joins labels and feature vectors by event id and splits the result by event time. Feed it every
 * label first, then every feature vector, each in log order (a later label for the same event id
 * replaces an earlier one), then call {@link #assemble}.
 *
 * <p>The join is point-in-time correct: each vector holds the features as of its own event, only
 * labels known by the cutoff are used, and when an event id has several vectors (a CDC source
 * whose event id is the row's key gives one per UPDATE of the row, e.g. refund fields set after a
 * chargeback) the row is the vector as of the label's time: the latest whose event time is at or
 * before the label's event time, the last read among those of that time. A vector after the
 * label's time would show the model features that were not known when the outcome was, so one is
 * used only when the event has no other, and then the earliest.
 */
public final class DatasetAssembler {

  /**
   * The event id feature-streams gives an event whose source record has no event id: {@code
   * <topic>/<partition>/<offset>} (topic names cannot hold a '/').
   */
  private static final Pattern OFFSET_EVENT_ID = Pattern.compile("[A-Za-z0-9._-]+/\\d+/\\d+");

  private final String model;
  private final String featureGroup;
  private final String target;
  private final ModelTask task;
  private final List<String> fixedFeatures;
  private final long labelCutoffMs;

  private final Map<String, Float> labels = new HashMap<>();
  /** The event time (epoch ms) of the label in {@link #labels} of each event. */
  private final Map<String, Long> labelTimes = new HashMap<>();
  /** Events whose latest label the task cannot learn from, with that label's value. */
  private final Map<String, Double> unusable = new LinkedHashMap<>();
  private final Map<String, Integer> numIndex = new HashMap<>();
  private final List<String> numNames = new ArrayList<>();
  private final Map<String, Integer> catIndex = new HashMap<>();
  private final List<String> catNames = new ArrayList<>();
  private final Map<String, Row> rows = new HashMap<>();
  private String featureGroupVersion;
  private long vectorsSeen;
  private long vectorsOfGroup;
  /** The first event id read on each side, shown when nothing joins; null if none. */
  private String exampleLabelEventId;
  private String exampleVectorEventId;

  private record Row(long timeMs, float[] values, String[] categorical) {}

  /**
   * @param model the model's name, for errors
   * @param featureGroup the feature group whose vectors are used
   * @param target the label target joined
   * @param task what the model learns: a binary classifier takes labels 0 and 1 only, a regression
   *     any finite value; other labels are left out ({@link #unusableLabels})
   * @param features the numeric features in order; empty for every numeric feature seen, sorted
   * @param labelCutoffMs labels whose event time (when they became known) is later are left out
   */
  public DatasetAssembler(String model, String featureGroup, String target, ModelTask task,
      List<String> features, long labelCutoffMs) {
    this.model = Objects.requireNonNull(model);
    this.featureGroup = Objects.requireNonNull(featureGroup);
    this.target = Objects.requireNonNull(target);
    this.task = Objects.requireNonNull(task);
    this.fixedFeatures = List.copyOf(features);
    this.labelCutoffMs = labelCutoffMs;
    for (String f : fixedFeatures) {
      numIndex.put(f, numNames.size());
      numNames.add(f);
    }
  }

  /**
   * Adds a label; labels of other targets or known after the cutoff are ignored. A later label of
   * an event replaces the earlier one; a label the task cannot learn from (not 0 or 1 for a binary
   * classifier, not finite for a regression) leaves its event out of the dataset, until a later
   * valid label of the same event replaces it.
   */
  public void addLabel(Label label) {
    if (label == null || !target.equals(label.getTarget())
        || label.getEventTime().toEpochMilli() > labelCutoffMs) {
      return;
    }
    if (exampleLabelEventId == null) {
      exampleLabelEventId = label.getEventId();
    }
    double value = label.getValue();
    // labels are stored as float: 1e39 is finite as a double and infinite as a float
    boolean usable = task == ModelTask.REGRESSION ? Float.isFinite((float) value)
        : value == 0.0 || value == 1.0;
    if (usable) {
      unusable.remove(label.getEventId());
      labels.put(label.getEventId(), (float) value);
      labelTimes.put(label.getEventId(), label.getEventTime().toEpochMilli());
    } else {
      labels.remove(label.getEventId());
      labelTimes.remove(label.getEventId());
      unusable.put(label.getEventId(), value);
    }
  }

  /**
   * The events left out because their latest label is one the task cannot learn from, with that
   * label, in the order they were read.
   */
  public Map<String, Double> unusableLabels() {
    return Collections.unmodifiableMap(unusable);
  }

  /** What labels the task takes, for messages. */
  public String usableLabels() {
    return task == ModelTask.REGRESSION ? "finite numbers" : "0 or 1 (a binary classifier)";
  }

  /**
   * Adds a vector; vectors of other groups or without a label are ignored, and so is one of an
   * event that has a vector closer to its label's time (see the class comment).
   */
  public void addVector(FeatureVector v) {
    vectorsSeen++;
    if (v == null || !featureGroup.equals(v.getFeatureGroup())) {
      return;
    }
    vectorsOfGroup++;
    if (exampleVectorEventId == null) {
      exampleVectorEventId = v.getEventId();
    }
    if (!labels.containsKey(v.getEventId())) {
      return;
    }
    long timeMs = v.getEventTime().toEpochMilli();
    Row kept = rows.get(v.getEventId());
    if (kept != null && !replaces(timeMs, kept.timeMs(), labelTimes.get(v.getEventId()))) {
      return;
    }
    if (v.getFeatureGroupVersion() != null) {
      featureGroupVersion = v.getFeatureGroupVersion();
    }
    for (Map.Entry<String, Double> e : v.getFeatures().entrySet()) {
      if (fixedFeatures.isEmpty() && !numIndex.containsKey(e.getKey())) {
        numIndex.put(e.getKey(), numNames.size());
        numNames.add(e.getKey());
      }
    }
    for (String c : v.getCategoricalFeatures().keySet()) {
      if (!catIndex.containsKey(c)) {
        catIndex.put(c, catNames.size());
        catNames.add(c);
      }
    }
    float[] values = new float[numNames.size()];
    Arrays.fill(values, Float.NaN);
    for (Map.Entry<String, Double> e : v.getFeatures().entrySet()) {
      Integer i = numIndex.get(e.getKey());
      if (i != null && e.getValue() != null) {
        values[i] = e.getValue().floatValue();
      }
    }
    String[] cats = new String[catNames.size()];
    for (Map.Entry<String, String> e : v.getCategoricalFeatures().entrySet()) {
      cats[catIndex.get(e.getKey())] = e.getValue();
    }
    rows.put(v.getEventId(), new Row(timeMs, values, cats));
  }

  /**
   * Whether a vector at {@code timeMs} replaces the one kept at {@code keptMs} for a label known
   * at {@code labelMs}: the latest at or before the label's time wins, ties going to the later
   * read; one after it wins only over one after it too, and then the earliest.
   */
  private static boolean replaces(long timeMs, long keptMs, long labelMs) {
    boolean before = timeMs <= labelMs;
    boolean keptBefore = keptMs <= labelMs;
    if (before != keptBefore) {
      return before;
    }
    return before ? timeMs >= keptMs : timeMs <= keptMs;
  }

  /** The feature group version of the latest joined vector; null if none carried one. */
  public String featureGroupVersion() {
    return featureGroupVersion;
  }

  /**
   * Joins and splits: rows sorted by event time (then event id); the latest {@code
   * holdoutFraction} of rows, widened or narrowed to a whole event-time instant, is the holdout, so
   * every holdout row is strictly later than every training row.
   *
   * @throws DatasetException when there is nothing to join or the rows cannot be split in time
   */
  public Assembled assemble(double holdoutFraction) {
    if (rows.isEmpty()) {
      throw new DatasetException("model '" + model + "': no labelled rows. Read " + labels.size()
          + " label(s) of target '" + target + "' and " + vectorsOfGroup + " feature vector(s) of"
          + " group '" + featureGroup + "' (" + vectorsSeen + " in all) and found no event id in"
          + " both; check the model's target and featureGroup in flywheel.yaml, and that labels"
          + " carry the event ids of the feature log"
          + eventIdHint()
          + (unusable.isEmpty() ? "" : "; " + unusable.size() + " more label(s) were left out"
              + " as not " + usableLabels()));
    }
    for (String f : fixedFeatures) {
      boolean seen = rows.values().stream().anyMatch(r -> numIndex.get(f) < r.values().length
          && !Float.isNaN(r.values()[numIndex.get(f)]));
      if (!seen) {
        throw new DatasetException("model '" + model + "': feature '" + f + "' listed under"
            + " features: has no value in any labelled vector of group '" + featureGroup + "'");
      }
    }
    List<String> ids = new ArrayList<>(rows.keySet());
    ids.sort(Comparator.<String>comparingLong(id -> rows.get(id).timeMs())
        .thenComparing(Comparator.naturalOrder()));
    int n = ids.size();
    int holdoutCount = Math.max(1, (int) Math.ceil(n * holdoutFraction));
    int cut = n - holdoutCount;
    if (cut <= 0) {
      throw new DatasetException("model '" + model + "': only " + n + " labelled row(s); at"
          + " least 2 with different event times are needed to hold out the latest");
    }
    long cutTime = rows.get(ids.get(cut)).timeMs();
    while (cut > 0 && rows.get(ids.get(cut - 1)).timeMs() == cutTime) {
      cut--;
    }
    if (cut == 0) {
      cut = n - holdoutCount;
      while (cut < n && rows.get(ids.get(cut)).timeMs() == cutTime) {
        cut++;
      }
      if (cut == n) {
        throw new DatasetException("model '" + model + "': all " + n + " labelled rows have the"
            + " same event time, so no holdout can be later than the training set");
      }
    }
    List<String> numOrder = new ArrayList<>(numNames);
    if (fixedFeatures.isEmpty()) {
      numOrder.sort(Comparator.naturalOrder());
    }
    List<String> catOrder = new ArrayList<>(catNames);
    catOrder.sort(Comparator.naturalOrder());
    return new Assembled(numOrder, catOrder, split(ids.subList(0, cut), numOrder, catOrder),
        split(ids.subList(cut, n), numOrder, catOrder));
  }

  /** Examples of the event ids on both sides, and what to set when vectors got offset ids. */
  private String eventIdHint() {
    if (exampleVectorEventId == null || exampleLabelEventId == null) {
      return "";
    }
    String hint = "; feature vectors have event ids like '" + exampleVectorEventId + "', labels"
        + " like '" + exampleLabelEventId + "'";
    if (OFFSET_EVENT_ID.matcher(exampleVectorEventId).matches()) {
      hint += ". The vectors' ids are <topic>/<partition>/<offset>, given when the source record"
          + " has no event id: the source of feature group '" + featureGroup + "' has no"
          + " 'event_id' field. Set 'eventId: <the source's id field>' on feature group '"
          + featureGroup + "' in flywheel.yaml; new events will then carry that id";
    }
    return hint;
  }

  private Split split(List<String> ids, List<String> numOrder, List<String> catOrder) {
    int f = numOrder.size();
    int[] numSrc = numOrder.stream().mapToInt(numIndex::get).toArray();
    int[] catSrc = catOrder.stream().mapToInt(catIndex::get).toArray();
    String[] eventIds = new String[ids.size()];
    long[] times = new long[ids.size()];
    float[] y = new float[ids.size()];
    float[] x = new float[ids.size() * f];
    String[][] cats = new String[ids.size()][];
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      Row r = rows.get(id);
      eventIds[i] = id;
      times[i] = r.timeMs();
      y[i] = labels.get(id);
      for (int j = 0; j < f; j++) {
        int src = numSrc[j];
        x[i * f + j] = src < r.values().length ? r.values()[src] : Float.NaN;
      }
      String[] c = new String[catSrc.length];
      for (int j = 0; j < catSrc.length; j++) {
        int src = catSrc[j];
        c[j] = src < r.categorical().length ? r.categorical()[src] : null;
      }
      cats[i] = c;
    }
    return new Split(eventIds, times, y, x, f, cats);
  }

  /**
   * The joined, split rows.
   *
   * @param featureNames numeric columns
   * @param categoricalNames categorical columns
   * @param train earlier rows
   * @param holdout later rows
   */
  public record Assembled(List<String> featureNames, List<String> categoricalNames, Split train,
      Split holdout) {}
}
