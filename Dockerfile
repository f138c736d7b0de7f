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
# Kafka Streams' RocksDB state of the stateful services; mount a volume here
ENV FLYWHEEL_STATE_DIR=/var/lib/flywheel/state \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/flywheel.jar"]
CMD ["--help"]
