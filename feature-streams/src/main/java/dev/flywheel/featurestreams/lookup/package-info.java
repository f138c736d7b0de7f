/**
 * The online feature lookup: {@code GET /features/{group}/{entity}} and {@code POST
 * /features/{group}/batch} over the latest {@code FeatureVector} per entity that the feature
 * topology keeps in its online stores, routed to the instance that owns each key
 * ({@link dev.flywheel.featurestreams.lookup.FeatureLookupService}), and a Java client for the
 * same API ({@link dev.flywheel.featurestreams.lookup.FeatureClient}).
 */
package dev.flywheel.featurestreams.lookup;
