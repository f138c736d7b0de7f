package dev.flywheel.bench;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;

/**
 * A fixed-rate load generator in the manner of wrk2: {@code connections} threads, each with one
 * keep-alive connection, share a global schedule of one request every {@code 1/rate} seconds
 * (thread k sends requests k, k + n, k + 2n, ...). Latency is measured from the moment a request
 * was <em>due</em>, not from when it was sent, so a stall delays the schedule and is counted for
 * every request that waited on it (coordinated-omission correction). The uncorrected service
 * time (from actual send) is kept beside it.
 */
final class PacedLoad {

  /** One connection's way of making request number {@code seq}; throws on a wrong answer. */
  interface Connection extends Closeable {
    void request(long seq) throws IOException;
  }

  /** What a run measured. */
  record Result(Histogram corrected, Histogram service, long requests, long errors,
      double achievedRate) {}

  private PacedLoad() {}

  static Result run(double rate, double seconds, int connections,
      IntFunction<Connection> connect) throws InterruptedException {
    long intervalNs = (long) (1e9 / rate);
    long total = (long) (rate * seconds);
    Histogram corrected = new Histogram(60_000_000_000L, 3);
    Histogram service = new Histogram(60_000_000_000L, 3);
    AtomicLong errors = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    List<Histogram[]> perThread = new ArrayList<>();
    long start = System.nanoTime() + 50_000_000L;
    for (int k = 0; k < connections; k++) {
      int id = k;
      Histogram[] mine = {new Histogram(60_000_000_000L, 3), new Histogram(60_000_000_000L, 3)};
      perThread.add(mine);
      Thread t = new Thread(() -> {
        try (Connection connection = connect.apply(id)) {
          for (long seq = id; seq < total; seq += connections) {
            long due = start + seq * intervalNs;
            long now;
            while ((now = System.nanoTime()) < due) {
              LockSupport.parkNanos(due - now);
            }
            long sent = System.nanoTime();
            try {
              connection.request(seq);
            } catch (IOException | RuntimeException e) {
              errors.incrementAndGet();
            }
            long done = System.nanoTime();
            mine[0].recordValue(Math.max(0, done - due));
            mine[1].recordValue(Math.max(0, done - sent));
          }
        } catch (IOException e) {
          errors.incrementAndGet();
        }
      }, "paced-load-" + k);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    for (Histogram[] h : perThread) {
      corrected.add(h[0]);
      service.add(h[1]);
    }
    return new Result(corrected, service, corrected.getTotalCount(), errors.get(),
        corrected.getTotalCount() / elapsed);
  }

  /** {@code p50 / p99 / p99.9 / max} in ms. */
  static String describe(Histogram h) {
    return String.format(java.util.Locale.ROOT, "p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max"
            + " %.3f ms", h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
        h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
  }

  // ------------------------------------------------------------------ raw protocol clients

  /**
   * HTTP/1.1 GET on one keep-alive socket, as wrk does: writes the request line and Host header,
   * reads the status line, headers and a Content-Length body; a status other than 200 or a body
   * without {@code expect} is an error.
   */
  static final class HttpGet implements Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final IntFunction<String> path;
    private final String host;
    private final byte[] expect;

    HttpGet(String host, int port, IntFunction<String> path, String expect) throws IOException {
      this.socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port));
      this.out = socket.getOutputStream();
      this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      this.path = path;
      this.host = host + ":" + port;
      this.expect = expect.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void request(long seq) throws IOException {
      out.write(("GET " + path.apply((int) seq) + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String status = line(in);
      int length = -1;
      String header;
      while (!(header = line(in)).isEmpty()) {
        int colon = header.indexOf(':');
        if (colon > 0 && header.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
          length = Integer.parseInt(header.substring(colon + 1).trim());
        }
      }
      if (length < 0) {
        throw new IOException("answer without Content-Length: " + status);
      }
      byte[] body = in.readNBytes(length);
      if (!status.startsWith("HTTP/1.1 200") || indexOf(body, expect) < 0) {
        throw new IOException("unexpected answer " + status + " "
            + new String(body, StandardCharsets.UTF_8));
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Redis GET over RESP on one socket; a nil or error reply is an error. */
  static final class RedisGet implements Connection {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final IntFunction<String> key;

    RedisGet(String host, int port, IntFunction<String> key) throws IOException {
      this.socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port));
      this.out = socket.getOutputStream();
      this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      this.key = key;
    }

    @Override
    public void request(long seq) throws IOException {
      byte[] k = key.apply((int) seq).getBytes(StandardCharsets.UTF_8);
      out.write(("*2\r\n$3\r\nGET\r\n$" + k.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(k);
      out.write(new byte[] {'\r', '\n'});
      out.flush();
      String head = line(in);
      if (!head.startsWith("$") || head.equals("$-1")) {
        throw new IOException("unexpected reply " + head);
      }
      in.readNBytes(Integer.parseInt(head.substring(1)) + 2);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Redis SET of one value. */
  static void redisSet(Socket socket, String key, byte[] value) throws IOException {
    OutputStream out = socket.getOutputStream();
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    out.write(("*3\r\n$3\r\nSET\r\n$" + k.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(k);
    out.write(("\r\n$" + value.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(value);
    out.write(new byte[] {'\r', '\n'});
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read();
        return s.toString();
      }
      s.append((char) c);
    }
    throw new IOException("connection closed");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
