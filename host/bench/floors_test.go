package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// echoListener serves ln as the peer subcommand does, or, if flip, sends
// back each byte with its low bit flipped.
func echoListener(t *testing.T, ln net.Listener, flip bool) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if !flip {
					_, _ = io.Copy(c, c)
					return
				}
				b := make([]byte, 1)
				for {
					if _, err := c.Read(b); err != nil {
						return
					}
					b[0] ^= 1
					if _, err := c.Write(b); err != nil {
						return
					}
				}
			}()
		}
	}()
}

func TestPingWorker(t *testing.T) {
	msg := []byte(`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`)
	for _, network := range []string{"unix", "tcp"} {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = filepath.Join(t.TempDir(), "peer.sock")
		}
		for _, flip := range []bool{false, true} {
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			echoListener(t, ln, flip)
			w, err := newPingWorker(network, ln.Addr().String(), msg)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				err := w.Do(context.Background())
				if flip && err == nil {
					t.Errorf("%s: a peer that changes the bytes passed", network)
				}
				if !flip && err != nil {
					t.Errorf("%s: %v", network, err)
				}
			}
			w.Close()
			ln.Close()
		}
	}
}

func TestMeasuredAt(t *testing.T) {
	all, one := loadTarget{}, loadTarget{onlyConcurrency: 1}
	if !all.measuredAt(1) || !all.measuredAt(64) || !one.measuredAt(1) || one.measuredAt(8) {
		t.Error("measuredAt: a target without onlyConcurrency is measured at every concurrency, one with it at that one only")
	}
}
