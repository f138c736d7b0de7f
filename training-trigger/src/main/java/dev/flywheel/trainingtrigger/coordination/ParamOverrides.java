package dev.flywheel.trainingtrigger.coordination;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The bound on the parameter overrides of training requests, so that neither a model's state (its
 * pending overrides, and those of the run in flight or awaiting its retry) nor the STARTED event
 * grows with the requests that arrive while a run is in flight, in its cooldown or waiting for a
 * retry. Unlike a reason, an override cannot be counted instead of kept: dropping it would train
 * with other parameters than were asked for. So a request beyond the bound is refused, saying what
 * to fix: by the coordinator to {@code flywheel.training.requests.dlq}, and before it is written by
 * {@code POST /models/{model}/train} (400) and {@code flywheel train} (exit 2).
 *
 * <p>A run may have at most {@value #MAX} overrides (more than XGBoost documents parameters, with
 * room for a command's own): the distinct names over every request coalesced into it and, for a
 * retry, the attempt it retries. A name may have at most {@value #MAX_KEY} characters, a value
 * {@value #MAX_VALUE}; a longer value belongs under the model's {@code training.params} in
 * flywheel.yaml, which is not bounded here. An override of a name the next run has already takes
 * no room: the later value wins. So a model's state holds at most twice {@value #MAX} overrides
 * (those pending, and those of the run in flight or awaiting its retry), and a STARTED event
 * {@value #MAX} beside the model's {@code training.params}: some hundreds of KB at the very most.
 */
public final class ParamOverrides {

  /** The most distinct parameter names a run may be started with as overrides. */
  public static final int MAX = 100;
  /** The longest parameter name an override may have. */
  public static final int MAX_KEY = 100;
  /** The longest value an override may have. */
  public static final int MAX_VALUE = 1_000;
  /** How much of a name too long a message quotes. */
  private static final int QUOTED = 40;

  private ParamOverrides() {}

  /**
   * What is wrong with the overrides of one request, or null: more than {@value #MAX}, or a name
   * or value longer than its bound.
   *
   * @param where the request or its params as the message names them, e.g. {@code "params"}
   * @param model the model, for the flywheel.yaml key the message points to
   */
  public static String problem(String where, String model, Map<String, String> params) {
    if (params.size() > MAX) {
      return where + " has " + params.size() + " parameter overrides, more than the " + MAX
          + " a run may have; override fewer, and put the parameters every run uses under "
          + trainingParams(model) + " in flywheel.yaml";
    }
    for (Map.Entry<String, String> e : params.entrySet()) {
      String name = e.getKey();
      if (name.length() > MAX_KEY) {
        int end = Character.isHighSurrogate(name.charAt(QUOTED - 1)) ? QUOTED - 1 : QUOTED;
        return where + " has a parameter name of " + name.length() + " characters ('"
            + name.substring(0, end) + "…'), longer than the " + MAX_KEY + " a name may"
            + " have; give the parameter's name";
      }
      String value = e.getValue();
      if (value != null && value.length() > MAX_VALUE) {
        return where + " has a value of " + value.length() + " characters for '" + name
            + "', longer than the " + MAX_VALUE + " an override may have; set so long a value"
            + " under " + trainingParams(model) + " in flywheel.yaml instead";
      }
    }
    return null;
  }

  /**
   * What is wrong with adding a request's overrides to those the model's next run may be started
   * with, or null: {@link #problem} of the request alone, or more than {@value #MAX} distinct names
   * in all. A request that adds no name is never refused for their number, so that a state written
   * before the bound, with more, still takes requests.
   *
   * @param where the request as the message names it
   * @param model the model
   * @param request the request's overrides
   * @param next the overrides the request's would be combined with: those pending, and those of
   *     the run in flight or awaiting its retry (a retry is started with them)
   */
  public static String problem(String where, String model, Map<String, String> request,
      Collection<Map<String, String>> next) {
    String alone = problem(where, model, request);
    if (alone != null) {
      return alone;
    }
    Set<String> names = new TreeSet<>();
    next.forEach(m -> names.addAll(m.keySet()));
    int before = names.size();
    names.addAll(request.keySet());
    if (names.size() <= MAX || names.size() == before) {
      return null;
    }
    return where + " would bring the parameter overrides of the model's next run to "
        + names.size() + " distinct names, more than the " + MAX + " a run may have: a run is"
        + " started with the overrides of every request coalesced into it and, when it retries a"
        + " failed attempt, with that attempt's (" + before + " names already). Override fewer"
        + " parameters per request, or put those every run uses under " + trainingParams(model)
        + " in flywheel.yaml; a request without params is taken";
  }

  private static String trainingParams(String model) {
    return "models[" + model + "].training.params";
  }
}
