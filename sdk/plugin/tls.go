package plugin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"
)

// TLSFileEnv names the environment variable through which the host tells a
// plugin the file descriptor of a pipe holding the plugin's certificate and
// private key (PEM), for [PrepareTLS]'s mutual TLS.
const TLSFileEnv = "MODELHOST_PLUGIN_TLS_FD"

// clientCertEnv is where go-plugin's AutoMTLS passes the host's
// certificate (PEM) to the plugin; PrepareTLS passes it there too.
const clientCertEnv = "PLUGIN_CLIENT_CERT"

// maxTLSFileBytes bounds what a plugin reads from the TLS pipe.
const maxTLSFileBytes = 64 << 10

// PrepareTLS sets up mutual TLS between the host and the plugin that cmd
// starts, in place of go-plugin's AutoMTLS: the host must pass the returned
// config as ClientConfig.TLSConfig, leave AutoMTLS false, and call done once
// the plugin has started (or failed to).
//
// AutoMTLS makes each side generate a P-521 ECDSA key and a certificate at
// every start and verify the other's P-521 signatures in the handshake,
// which is most of the CPU a plugin's start costs. PrepareTLS instead
// generates two P-256 keys and self-signed certificates, one for the host
// and one for the plugin, each used for this launch only. The host's
// certificate goes to the plugin as AutoMTLS's does (in the environment);
// the plugin's certificate and private key go through a pipe that only the
// plugin inherits, never through the environment or a file. Each side
// trusts only the other's certificate, as with AutoMTLS.
//
// A plugin built with an SDK that predates PrepareTLS ignores the pipe and
// answers as AutoMTLS does, with a P-521 certificate of its own in its
// handshake line; go-plugin then trusts that certificate instead, so such
// plugins keep working.
//
// Where a child process cannot inherit a pipe (Windows), PrepareTLS returns
// a nil config and changes nothing: the host then uses AutoMTLS.
func PrepareTLS(cmd *exec.Cmd) (config *tls.Config, done func(), err error) {
	if runtime.GOOS == "windows" {
		return nil, func() {}, nil
	}
	hostCert, hostPEM, _, err := newLaunchCert()
	if err != nil {
		return nil, nil, err
	}
	pluginCert, pluginPEM, pluginKeyPEM, err := newLaunchCert()
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("TLS pipe: %w", err)
	}
	// A pipe holds 64 KiB at least: the write does not wait for the
	// plugin, which reads it once started.
	_, err = w.Write(append(pluginPEM, pluginKeyPEM...))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = r.Close()
		return nil, nil, fmt.Errorf("TLS pipe: %w", err)
	}
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env,
		clientCertEnv+"="+string(hostPEM),
		TLSFileEnv+"="+strconv.Itoa(fd))
	pool := x509.NewCertPool()
	pool.AddCert(pluginCert.Leaf)
	return &tls.Config{
		Certificates: []tls.Certificate{hostCert},
		RootCAs:      pool,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		ServerName:   "localhost",
	}, func() { _ = r.Close() }, nil
}

// newLaunchCert returns a new P-256 key and a self-signed certificate for
// "localhost", valid for client and server authentication, with the
// certificate and key in PEM too. The template is go-plugin's AutoMTLS one.
func newLaunchCert() (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return cert, nil, nil, err
	}
	const host = "localhost"
	now := time.Now()
	template := &x509.Certificate{
		Subject:  pkix.Name{CommonName: host, Organization: []string{"modelhost"}},
		DNSNames: []string{host},
		ExtKeyUsage: []x509.ExtKeyUsage{
			x509.ExtKeyUsageClientAuth,
			x509.ExtKeyUsageServerAuth,
		},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		SerialNumber:          sn,
		NotBefore:             now.Add(-30 * time.Second),
		NotAfter:              now.Add(262980 * time.Hour),
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return cert, nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return cert, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return cert, nil, nil, err
	}
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return cert, certPEM, keyPEM, nil
}

// launchTLSProvider returns the plugin half of PrepareTLS's mutual TLS, for
// ServeConfig.TLSProvider, or nil if the host did not set it up (an older
// host, or a host that uses AutoMTLS): go-plugin then falls back to its
// AutoMTLS. It reads and closes the pipe, so that the private key is not
// inherited by processes the model starts.
func launchTLSProvider(stderr io.Writer) func() (*tls.Config, error) {
	fdText, ok := os.LookupEnv(TLSFileEnv)
	if !ok {
		return nil
	}
	_ = os.Unsetenv(TLSFileEnv)
	cfg, err := readLaunchTLS(fdText, os.Getenv(clientCertEnv))
	if err != nil {
		fmt.Fprintf(stderr, "cannot use the host's TLS certificate, generating one: %v\n", err)
		return nil
	}
	return func() (*tls.Config, error) { return cfg, nil }
}

func readLaunchTLS(fdText, hostPEM string) (*tls.Config, error) {
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not a file descriptor", TLSFileEnv, fdText)
	}
	f := os.NewFile(uintptr(fd), "modelhost-tls")
	if f == nil {
		return nil, fmt.Errorf("%s=%d is not an open file", TLSFileEnv, fd)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTLSFileBytes))
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("read the TLS pipe: %w", err)
	}
	if hostPEM == "" {
		return nil, errors.New("no host certificate in " + clientCertEnv)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(hostPEM)) {
		return nil, errors.New("the host certificate in " + clientCertEnv + " does not parse")
	}
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, fmt.Errorf("the certificate and key of the TLS pipe: %w", err)
	}
	clear(data)
	// The same settings as go-plugin's AutoMTLS server.
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
		ServerName:   "localhost",
	}, nil
}
