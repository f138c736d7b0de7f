package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where the HTTP API of {@code flywheel up} and {@code flywheel run} listens: {@code up} on this
 * machine only unless {@code --http-host} says otherwise, {@code run} (containers) on every
 * interface; each prints the address it bound.
 */
@WithDevstack
class HttpHostIT {

  @TempDir Path workDir;

  @Test
  void shouldServeUpOnThisMachineOnlyUnlessTheHttpHostSaysOtherwise(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a flywheel.yaml on the test cluster, with no service
    Path yaml = config(devstack, names, "");
    String other = otherAddress();

    // When 'flywheel up' starts without --http-host
    StringWriter out = new StringWriter();
    UpCommand up = new UpCommand();
    new CommandLine(up).setOut(new PrintWriter(out, true))
        .parseArgs("-c", yaml.toString(), "--http-port", "0");
    try (UpCommand.Running running = up.start()) {
      int port = running.runtime().httpPort();

      // Then it answers on 127.0.0.1 only, and says so
      assertThat(out.toString()).contains("HTTP                     http://127.0.0.1:" + port
          + "  (/health, /metrics)");
      assertThat(accepts("127.0.0.1", port)).isTrue();
      assertThat(accepts(other, port)).as("answers on " + other).isFalse();
    }

    // and with --http-host 0.0.0.0 it answers on every interface, and says so
    StringWriter wide = new StringWriter();
    UpCommand everywhere = new UpCommand();
    new CommandLine(everywhere).setOut(new PrintWriter(wide, true))
        .parseArgs("-c", yaml.toString(), "--http-port", "0", "--http-host", "0.0.0.0");
    try (UpCommand.Running running = everywhere.start()) {
      int port = running.runtime().httpPort();
      assertThat(wide.toString()).contains("http://0.0.0.0:" + port + " (every interface)");
      assertThat(accepts(other, port)).as("answers on " + other).isTrue();
    }
  }

  @Test
  void shouldServeRunOnEveryInterfaceUnlessTheHttpHostSaysOtherwise(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a flywheel.yaml on the test cluster with an ingest section
    Path yaml = config(devstack, names, "ingest: {producers: 1}\n");
    String other = otherAddress();

    // When 'flywheel run ingest' starts without --http-host, as in a container
    StringWriter out = new StringWriter();
    RunCommand run = new RunCommand();
    new CommandLine(run).setOut(new PrintWriter(out, true))
        .parseArgs("ingest", "-c", yaml.toString(), "--http-port", "0");
    try (FlywheelRuntime runtime = run.start()) {
      // Then it answers on every interface, and says so
      assertThat(out.toString()).contains("http://0.0.0.0:" + runtime.httpPort()
          + " (every interface)");
      assertThat(accepts(other, runtime.httpPort())).as("answers on " + other).isTrue();
    }

    // and with --http-host 127.0.0.1 only on this machine
    StringWriter local = new StringWriter();
    RunCommand loopback = new RunCommand();
    new CommandLine(loopback).setOut(new PrintWriter(local, true))
        .parseArgs("ingest", "-c", yaml.toString(), "--http-port", "0",
            "--http-host", "127.0.0.1");
    try (FlywheelRuntime runtime = loopback.start()) {
      assertThat(local.toString()).contains("http://127.0.0.1:" + runtime.httpPort() + "  (");
      assertThat(accepts("127.0.0.1", runtime.httpPort())).isTrue();
      assertThat(accepts(other, runtime.httpPort())).as("answers on " + other).isFalse();
    }
  }

  private Path config(Devstack devstack, UniqueNames names, String sections) throws IOException {
    return Files.writeString(workDir.resolve("flywheel.yaml"), """
        kafka: {bootstrapServers: "%s", schemaRegistryUrl: "%s", topicPrefix: %s, partitions: 1}
        stateDir: %s
        """.formatted(devstack.bootstrapServers(), devstack.schemaRegistryUrl(), names.prefix(),
        workDir.resolve("state")) + sections);
  }

  /**
   * An address of this machine other than 127.0.0.1: a server bound to 127.0.0.1 does not answer
   * there, one bound to 0.0.0.0 does. A network interface's address when there is one, else
   * 127.0.0.2 (Linux routes all of 127.0.0.0/8 to the loopback interface).
   */
  private static String otherAddress() throws SocketException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address) {
          return address.getHostAddress();
        }
      }
    }
    return "127.0.0.2";
  }

  private static boolean accepts(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 2_000);
      return true;
    } catch (IOException refused) {
      return false;
    }
  }
}
