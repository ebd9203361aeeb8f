package io.trellis.cli.tproxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A tiny process run inside the test's network namespaces (as a chosen uid) by {@link
 * TransparentProxyNetnsIT}: {@code listen tcp:PORT=NAME udp:PORT=NAME ...} answers every TCP
 * connection / UDP datagram with its NAME; {@code probe tcp:HOST:PORT udp:HOST:PORT ...} prints, per
 * target, the NAME that answered (or REFUSED / TIMEOUT). The NAME tells where traffic landed.
 */
public final class NetProbe {
  private NetProbe() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("listen")) {
      for (int i = 1; i < args.length; i++) {
        String[] kv = args[i].split("=", 2);
        String[] pp = kv[0].split(":");
        int port = Integer.parseInt(pp[1]);
        if (pp[0].equals("tcp")) {
          ServerSocket server = new ServerSocket();
          server.setReuseAddress(true);
          server.bind(new InetSocketAddress(port));
          daemon(() -> serveTcp(server, kv[1]));
        } else {
          DatagramSocket socket = new DatagramSocket(port);
          daemon(() -> serveUdp(socket, kv[1]));
        }
      }
      System.out.println("READY");
      System.out.flush();
      // Lives until the test destroys it (or its stdin closes).
      while (System.in.read() >= 0) {
        // keep running
      }
      System.exit(0);
    }
    for (int i = 1; i < args.length; i++) {
      // proto:host:port, where host may be an IPv6 literal in brackets
      String a = args[i];
      String proto = a.substring(0, a.indexOf(':'));
      String host = a.substring(a.indexOf(':') + 1, a.lastIndexOf(':')).replace("[", "").replace("]", "");
      int port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
      System.out.println(a + " " + (proto.equals("tcp") ? tcp(host, port) : udp(host, port)));
    }
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r);
    t.setDaemon(true);
    t.start();
  }

  private static void serveTcp(ServerSocket server, String name) {
    while (true) {
      try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
        out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        // next connection
      }
    }
  }

  private static void serveUdp(DatagramSocket socket, String name) {
    byte[] buf = new byte[512];
    byte[] answer = name.getBytes(StandardCharsets.UTF_8);
    while (true) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
      } catch (IOException e) {
        // next datagram
      }
    }
  }

  private static String tcp(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getByName(host), port), 3000);
      s.setSoTimeout(3000);
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
      return line == null ? "EOF" : line;
    } catch (ConnectException e) {
      return "REFUSED";
    } catch (SocketTimeoutException e) {
      return "TIMEOUT";
    } catch (IOException e) {
      return "ERROR " + e.getMessage();
    }
  }

  private static String udp(String host, int port) {
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(2000);
      byte[] q = "q".getBytes(StandardCharsets.UTF_8);
      s.send(new DatagramPacket(q, q.length, InetAddress.getByName(host), port));
      byte[] buf = new byte[512];
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      s.receive(p);
      return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    } catch (SocketTimeoutException e) {
      return "TIMEOUT";
    } catch (IOException e) {
      return "ERROR " + e.getMessage();
    }
  }
}
