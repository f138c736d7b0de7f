# syntax=docker/dockerfile:1
# One image for every Flywheel service: `docker run flywheel run <service>` (ingest, features,
# registry, training, serving, drift) or any other `flywheel` command (`flywheel --help`).
#   docker build -t flywheel .

# ---- build: the platform's fat jar with the Maven wrapper (the Maven repository is cached) ----
FROM eclipse-temurin:17-jdk AS build
# the Maven wrapper fetches Maven with curl (or wget)
RUN apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -ntp -DskipTests -pl platform -am package \
 && cp platform/target/flywheel.jar /flywheel.jar

# ---- run: a JRE, the jar, a non-root user ----
FROM eclipse-temurin:17-jre
# libgomp1: XGBoost's native library (training and serving) links against OpenMP
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/flywheel --create-home flywheel \
 && mkdir -p /etc/flywheel /var/lib/flywheel/state /var/lib/flywheel/artifacts \
 && chown -R flywheel /var/lib/flywheel
COPY --from=build /flywheel.jar /app/flywheel.jar
USER flywheel
WORKDIR /var/lib/flywheel
# FLYWHEEL_STATE_DIR: Kafka Streams' RocksDB state of the stateful services; mount a volume here.
# The heap gets 55% of the container's memory limit: the rest is off the heap, where RocksDB's
# block cache and memtables (128 MiB), metaspace, thread stacks, direct buffers and, in training,
# XGBoost's native training live. At 75% a 2 GiB limit leaves ~512 MiB for all of them, and going
# over the limit gets the container killed by the kernel, with no OutOfMemoryError to say why
# (deploy/k8s gives training, which trains in its JVM, a 4 GiB limit).
ENV FLYWHEEL_STATE_DIR=/var/lib/flywheel/state \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=55 -XX:+ExitOnOutOfMemoryError"
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/flywheel.jar"]
CMD ["--help"]
