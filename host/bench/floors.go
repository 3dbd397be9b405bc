package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
)

// The machine's floors: a message of the iris input's size sent to
// another process and back, one at a time, over a Unix socket (the way
// the host reaches its plugins) and over TCP loopback (the way clients
// reach the host and the baseline). No code of modelhost, no HTTP and no
// gRPC runs on these round trips: they are what this machine charges for
// crossing a process boundary, to set beside the latencies at
// concurrency 1. They are measured at concurrency 1 only.

// peerReady is the @message of the line a peer logs once it listens.
const peerReady = "peer ready"

// runPeer is the "peer" subcommand: it listens on -network and -address
// and sends back whatever each connection sends, until SIGINT or SIGTERM.
func runPeer(args []string) int {
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	network := fs.String("network", "tcp", "`network` to listen on: tcp or unix")
	addr := fs.String("address", "127.0.0.1:0", "listen `address` (a socket path for unix)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen(*network, *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	logReady(peerReady, ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			fmt.Fprintf(os.Stderr, "peer: %v\n", err)
			return 1
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

// startPeer starts the peer subcommand of the benchmark's binary self,
// listening on network at address.
func startPeer(self, name, network, address string) (*server, error) {
	return startServer(name, exec.Command(self, "peer", "-network", network, "-address", address), peerReady, time.Minute)
}

// pingWorker sends msg to a peer and reads it back, once per Do.
type pingWorker struct {
	conn     net.Conn
	msg, buf []byte
}

func newPingWorker(network, address string, msg []byte) (*pingWorker, error) {
	c, err := net.Dial(network, address)
	if err != nil {
		return nil, err
	}
	return &pingWorker{conn: c, msg: msg, buf: make([]byte, len(msg))}, nil
}

func (w *pingWorker) Do(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		_ = w.conn.SetDeadline(d)
	}
	if _, err := w.conn.Write(w.msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(w.conn, w.buf); err != nil {
		return err
	}
	if !bytes.Equal(w.buf, w.msg) {
		return errors.New("the peer sent back something else")
	}
	return nil
}

func (w *pingWorker) Close() error { return w.conn.Close() }

// floorTarget is the load target of a round trip to peer over network.
func floorTarget(name, desc, network string, peer *server, msg []byte) loadTarget {
	return loadTarget{name: name, desc: desc, onlyConcurrency: 1,
		newWorker: func(int) (loadgen.Worker, error) { return newPingWorker(network, peer.Addr, msg) }}
}
