package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// launchWithTLS starts this test binary as a plugin with PrepareTLS's
// mutual TLS and returns the client and the host's TLS config with the
// roots PrepareTLS put in it. edit, if not nil, changes the command and
// the config before the start.
func launchWithTLS(t *testing.T, edit func(*exec.Cmd, *tls.Config)) (*goplugin.Client, *tls.Config, *x509.CertPool) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a plugin process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serveHelperEnv+"=1")
	cfg, done, err := PrepareTLS(cmd)
	if err != nil {
		t.Fatalf("PrepareTLS: %v", err)
	}
	if cfg == nil {
		t.Skip("PrepareTLS leaves TLS to AutoMTLS on " + runtime.GOOS)
	}
	if edit != nil {
		edit(cmd, cfg)
	}
	roots := cfg.RootCAs
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  HandshakeConfig(),
		Plugins:          PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		TLSConfig:        cfg,
		StartTimeout:     time.Minute,
		Logger:           hclog.NewNullLogger(),
		GRPCDialOptions:  GRPCDialOptions(),
	})
	t.Cleanup(client.Kill)
	t.Cleanup(done)
	return client, cfg, roots
}

func predictLength(t *testing.T, client *goplugin.Client) error {
	t.Helper()
	protocol, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	remote, err := Connect(ctx, protocol)
	if err != nil {
		return err
	}
	out, err := remote.Predict(ctx, []byte(`{"text":"abc"}`))
	if err == nil && string(out) != `{"length":3}` {
		t.Errorf(`Predict = %s, want {"length":3}`, out)
	}
	return err
}

func TestPrepareTLS(t *testing.T) {
	client, cfg, roots := launchWithTLS(t, nil)
	if err := predictLength(t, client); err != nil {
		t.Fatalf("Connect and Predict: %v", err)
	}
	// go-plugin replaces the trusted roots with the certificate of the
	// plugin's handshake line when there is one, as when the plugin falls
	// back to AutoMTLS's own P-521 certificate.
	if cfg.RootCAs != roots {
		t.Error("the plugin answered with a certificate of its own (AutoMTLS) instead of the one of the TLS pipe")
	}
}

// TestPrepareTLSOlderPlugin checks that a plugin that does not read the TLS
// pipe (an older SDK) still starts: it answers as with AutoMTLS.
func TestPrepareTLSOlderPlugin(t *testing.T) {
	client, cfg, roots := launchWithTLS(t, func(cmd *exec.Cmd, _ *tls.Config) {
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, TLSFileEnv+"=") })
	})
	if err := predictLength(t, client); err != nil {
		t.Fatalf("Connect and Predict: %v", err)
	}
	if cfg.RootCAs == roots {
		t.Error("the plugin did not answer with a certificate of its own")
	}
}

// TestPrepareTLSRefusesOtherCertificate checks that the host does not talk
// to a plugin whose certificate is not the one it generated for it.
func TestPrepareTLSRefusesOtherCertificate(t *testing.T) {
	client, _, _ := launchWithTLS(t, func(_ *exec.Cmd, cfg *tls.Config) {
		_, other, _, err := newLaunchCert()
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(other)
		cfg.RootCAs = pool
	})
	err := predictLength(t, client)
	if err == nil {
		t.Fatal("Connect and Predict succeeded with a plugin certificate the host does not trust")
	}
	t.Logf("Connect and Predict: %v", err)
}

// TestPrepareTLSPluginRefusesOtherHost checks that the plugin does not
// talk to a host whose certificate is not the one of its environment.
func TestPrepareTLSPluginRefusesOtherHost(t *testing.T) {
	client, _, _ := launchWithTLS(t, func(_ *exec.Cmd, cfg *tls.Config) {
		other, _, _, err := newLaunchCert()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{other}
	})
	err := predictLength(t, client)
	if err == nil {
		t.Fatal("Connect and Predict succeeded with a host certificate the plugin does not trust")
	}
	t.Logf("Connect and Predict: %v", err)
}
