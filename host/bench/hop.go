package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/host/bench/internal/loadgen"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// hop is a plugin launched by the benchmark itself with go-plugin, as the
// host's launcher launches plugins (gRPC, AutoMTLS, a Unix socket, the
// SDK's dial options), for measuring the bare round trip of a prediction:
// a unary gRPC call (RemoteModel.PredictUnary, not the prediction stream
// the host uses) with no HTTP and no host in between, the floor as the
// issue defines it.
type hop struct {
	client *goplugin.Client
	model  *plugin.RemoteModel
}

// startHop launches the plugin binary path with env as its whole
// environment.
func startHop(ctx context.Context, path string, env []string) (*hop, error) {
	cmd := exec.Command(path)
	// go-plugin starts it; like every SDK plugin, it exits by itself
	// within a second when its parent, the benchmark, is gone.
	cmd.Env = env
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.HandshakeConfig(),
		Plugins:          plugin.PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     time.Minute,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "hop", Level: hclog.Warn, Output: os.Stderr}),
		GRPCDialOptions:  plugin.GRPCDialOptions(),
	})
	protocol, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("start the hop plugin: %w", err)
	}
	model, err := plugin.Connect(ctx, protocol)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("connect to the hop plugin: %w", err)
	}
	return &hop{client: client, model: model}, nil
}

// PID returns the plugin's process ID.
func (h *hop) PID() int {
	if rc := h.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

func (h *hop) Stop() { h.client.Kill() }

// worker returns a load generator worker that predicts input and expects
// want, with the host's predict timeout as the call's deadline, as the
// host's handler calls it.
func (h *hop) worker(input, want []byte, timeout time.Duration) loadgen.Worker {
	return &hopWorker{model: h.model, input: input, want: want, timeout: timeout}
}

type hopWorker struct {
	model       *plugin.RemoteModel
	input, want []byte
	timeout     time.Duration
}

func (w *hopWorker) Do(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	out, err := w.model.PredictUnary(ctx, w.input)
	if err != nil {
		return err
	}
	if !bytes.Equal(out, w.want) {
		return errors.New("unexpected output")
	}
	return nil
}

func (w *hopWorker) Close() error { return nil }
