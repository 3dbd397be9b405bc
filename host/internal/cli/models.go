package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelhost/modelhost/host/internal/api"
	"github.com/modelhost/modelhost/host/internal/problem"
)

// Settings of the models command.
const (
	// defaultHostURL is the default of models --url: the default
	// server.address.
	defaultHostURL = "http://127.0.0.1:8080"
	// tokenEnv names the environment variable that holds the API token.
	tokenEnv = "MODELHOST_TOKEN"
	// maxModelsAnswer bounds the answer read from GET /api/models.
	maxModelsAnswer = 32 << 20
	// maxDescription is how many characters of a description the table
	// shows.
	maxDescription = 60
)

// listModels prints the models of a running host, from GET /api/models.
func listModels(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("url", defaultHostURL, "base URL of the running host")
	asJSON := fs.Bool("json", false, "print the JSON answer as received, indented, instead of a table")
	timeout := fs.Duration("timeout", 10*time.Second, "give up if the host has not answered within this duration")
	tokenFile := fs.String("token-file", "", "read the API token from `FILE` instead of $"+tokenEnv)
	fs.Usage = commandUsage(fs, stdout, `Usage: modelhost models [--url URL] [--json] [--timeout DURATION] [--token-file FILE]

Ask a running host for its models (GET URL/api/models) and print them as a
table with the columns NAME, VERSION, STATUS, RESTARTS and DESCRIPTION
(cut at 60 characters), or with --json the answer as it came, indented.

When the API requires a token (an auth block), set the environment
variable MODELHOST_TOKEN to it, or name a file that holds it with
--token-file: its first line that is neither blank nor a # comment.

Exit status 1 if the host cannot be reached or does not answer with the
list; an error answer's title and detail are printed on standard error.

Flags:
`)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	endpoint, err := modelsEndpoint(*baseURL)
	if err != nil {
		usageError(fs, stderr, err.Error())
		return exitUsage
	}
	if *timeout <= 0 {
		usageError(fs, stderr, fmt.Sprintf("--timeout must be greater than zero, got %s", *timeout))
		return exitUsage
	}
	token, err := apiToken(*tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "modelhost models: %v\n", err)
		return exitFailed
	}

	body, err := getModels(ctx, endpoint, token, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "modelhost models: %v\n", err)
		var status *statusError
		if errors.As(err, &status) && status.code == http.StatusUnauthorized && token == "" {
			fmt.Fprintf(stderr, "The host requires an API token: set %s or use --token-file.\n", tokenEnv)
		}
		return exitFailed
	}

	var out bytes.Buffer
	if *asJSON {
		err = json.Indent(&out, body, "", "  ")
		out.WriteByte('\n')
	} else {
		err = writeModelTable(&out, body)
	}
	if err != nil {
		fmt.Fprintf(stderr, "modelhost models: the answer of GET %s is not a model list: %v\n", endpoint.Redacted(), err)
		return exitFailed
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "modelhost models: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// modelsEndpoint returns the URL of GET /api/models on the host at base,
// an http or https URL, possibly with a path prefix.
func modelsEndpoint(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return nil, fmt.Errorf("invalid --url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("invalid --url %q: want http://HOST:PORT or https://HOST:PORT", base)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("invalid --url %q: want no query or fragment", base)
	}
	return u.JoinPath("api", "models"), nil
}

// apiToken returns the API token: the first token line of tokenFile if it
// is set, otherwise $MODELHOST_TOKEN, otherwise "". It never puts the token
// in an error.
func apiToken(tokenFile string) (string, error) {
	if tokenFile == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), nil
	}
	f, err := os.Open(tokenFile)
	if err != nil {
		return "", fmt.Errorf("read the token file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read the token file %s: %w", tokenFile, err)
	}
	return "", fmt.Errorf("the token file %s holds no token", tokenFile)
}

// statusError is an answer with a status other than 2xx.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// getModels returns the body of GET endpoint, sending token as a bearer
// token if it is not empty. An answer other than 2xx is a *statusError
// carrying the problem's title and detail when it is a problem document.
func getModels(ctx context.Context, endpoint *url.URL, token string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: timeout}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("GET %s: no answer within %s: %w", endpoint.Redacted(), timeout, err)
		}
		return nil, err // a *url.Error, which names the method and the URL without password
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxModelsAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read the answer: %w", endpoint.Redacted(), err)
	}
	if len(body) > maxModelsAnswer {
		return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", endpoint.Redacted(), maxModelsAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &statusError{code: resp.StatusCode, msg: fmt.Sprintf("GET %s: %s", endpoint.Redacted(), describeFailure(resp, body))}
	}
	return body, nil
}

// describeFailure describes an answer other than 2xx: its status, and its
// title and detail if it is a problem document.
func describeFailure(resp *http.Response, body []byte) string {
	msg := resp.Status
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == problem.ContentType {
		var p problem.Details
		if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "") {
			msg = strconv.Itoa(resp.StatusCode) + " " + printable(p.Title)
			if p.Detail != "" {
				msg += ": " + printable(p.Detail)
			}
		}
	}
	return msg
}

// writeModelTable prints the model list in body, the JSON answer of
// GET /api/models, as a table.
func writeModelTable(w io.Writer, body []byte) error {
	var list api.ModelList
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSTATUS\tRESTARTS\tDESCRIPTION")
	for _, m := range list.Models {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", printable(m.QualifiedName), printable(m.Version),
			printable(string(m.Status)), m.Restarts, shorten(printable(m.Description), maxDescription))
	}
	return tw.Flush()
}

// printable returns s on one line, with runs of white space and control
// characters (which could break the table or drive the terminal) made one
// space.
func printable(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	}), " ")
}

// shorten cuts s to at most n characters, ending it with "…" if it cuts.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
