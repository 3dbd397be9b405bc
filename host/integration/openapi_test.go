package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modelhost/modelhost/host/internal/hosttest"
	"github.com/modelhost/modelhost/host/internal/openapi/openapitest"
)

// TestOpenAPI serves the bundled models and checks their OpenAPI document:
// it is valid, every example of every model's operation is answered 200 with
// a body that satisfies the operation's response schema, "modelhost openapi"
// prints the same document, and Swagger UI loads.
func TestOpenAPI(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	hosttest.Copy(t, builder.Build(t, "./plugins/sentiment"), filepath.Join(dir, "sentiment"), 0o755)
	modelhost := builder.Build(t, "./host/cmd/modelhost")
	host := hosttest.Start(t, modelhost, hostConfig(dir))

	res := host.Get(t, "/openapi.json")
	wantStatus(t, res, http.StatusOK, "application/json")
	served := res.Body
	if err := openapitest.Validate(served); err != nil {
		t.Fatalf("GET /openapi.json is not a valid OpenAPI 3.1 document:\n%v", err)
	}
	doc, err := openapitest.Load(served)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("examples run and answers match the schemas", func(t *testing.T) {
		paths := doc.Value.(map[string]any)["paths"].(map[string]any)
		tested := map[string]int{} // operationId: examples sent
		for _, path := range slices.Sorted(func(yield func(string) bool) {
			for p := range paths {
				if !yield(p) {
					return
				}
			}
		}) {
			op, ok := paths[path].(map[string]any)["post"].(map[string]any)
			if !ok {
				continue
			}
			content, _ := lookup(op, "requestBody", "content", "application/json").(map[string]any)
			examples, _ := content["examples"].(map[string]any)
			if len(examples) == 0 {
				continue
			}
			id := op["operationId"].(string)
			schemaPointer := "/paths/" + openapitest.EscapeToken(path) + "/post/responses/200/content/application~1json/schema"
			outSchema, err := doc.Schema(schemaPointer)
			if err != nil {
				t.Fatalf("%s: compile the 200 response schema: %v", id, err)
			}
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for n := range examples {
					if !yield(n) {
						return
					}
				}
			}) {
				value := lookup(examples[name], "value")
				body, err := json.Marshal(value)
				if err != nil {
					t.Fatal(err)
				}
				res := host.Post(t, path, "application/json", body)
				if res.Status != http.StatusOK {
					t.Errorf("%s example %s: POST %s %s: status %d: %s", id, name, path, body, res.Status, res.Body)
					continue
				}
				out, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.Body))
				if err != nil {
					t.Errorf("%s example %s: answer is not JSON: %v", id, name, err)
					continue
				}
				if err := outSchema.Validate(out); err != nil {
					t.Errorf("%s example %s: the answer %s does not satisfy the 200 response schema: %v", id, name, res.Body, err)
				}
				tested[id]++
			}
		}
		want := map[string]int{
			"predict_iris_model": 3, "predict_sentiment": 3, "predict_batch_iris_model": 1, "predict_batch_sentiment": 1,
			// The same examples on each version's own path.
			"predict_iris_model_v1_0_0": 3, "predict_sentiment_v1_0_0": 3, "predict_batch_iris_model_v1_0_0": 1, "predict_batch_sentiment_v1_0_0": 1,
		}
		if diff := cmp.Diff(want, tested); diff != "" {
			t.Errorf("examples sent per operation (-want +got):\n%s", diff)
		}
	})

	t.Run("modelhost openapi prints the served document", func(t *testing.T) {
		cmd := exec.Command(modelhost, "openapi", "--config", filepath.Join(host.Dir, "config.hcl"))
		cmd.Dir = host.Dir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("modelhost openapi: %v\nstderr:\n%s", err, stderr.String())
		}
		var printed, want any
		dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
		if err := dec.Decode(&printed); err != nil {
			t.Fatalf("stdout is not a JSON document: %v\n%s", err, stdout.String())
		}
		if dec.More() {
			t.Errorf("stdout has more than the document")
		}
		if err := json.Unmarshal(served, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(withoutServers(want), withoutServers(printed)); diff != "" {
			t.Errorf("modelhost openapi differs from GET /openapi.json (-served +printed):\n%s", diff)
		}
		// Logs went to stderr, and the plugins it started are gone.
		var pids []int
		for _, line := range strings.Split(stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["@message"] == "model ready" {
				if pid, ok := m["pid"].(float64); ok {
					pids = append(pids, int(pid))
				}
			}
		}
		if len(pids) != 2 {
			t.Fatalf("plugins reported ready on stderr: %v, want 2\nstderr:\n%s", pids, stderr.String())
		}
		for _, pid := range pids {
			if !eventuallyGone(pid, 5*time.Second) {
				t.Errorf("plugin process %d still running after modelhost openapi exited", pid)
			}
		}
	})

	t.Run("modelhost openapi --help", func(t *testing.T) {
		cmd := exec.Command(modelhost, "openapi", "--help")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("modelhost openapi --help: %v", err)
		}
		// Help asked for is the command's output: stdout, exit 0.
		if !strings.Contains(stdout.String(), "Usage: modelhost openapi") || !strings.Contains(stdout.String(), "-config") {
			t.Errorf("help text:\n%s", stdout.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("--help wrote to stderr: %s", stderr.String())
		}
		cmd = exec.Command(modelhost, "openapi", "--config", filepath.Join(t.TempDir(), "missing.hcl"))
		var exit *exec.ExitError
		if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("modelhost openapi with a missing config: %v, want exit status 2", err)
		}
	})

	t.Run("Swagger UI", func(t *testing.T) {
		res := host.Get(t, "/docs")
		wantStatus(t, res, http.StatusOK, "text/html")
		page := string(res.Body)
		if regexp.MustCompile(`(?i)<style\b|\sstyle\s*=|\son[a-z]+\s*=`).MatchString(page) {
			t.Errorf("the page has inline styles or event handlers:\n%s", page)
		}
		for _, m := range regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
			if strings.TrimSpace(m[2]) != "" || !strings.Contains(m[1], "src=") {
				t.Errorf("inline script: %s", m[0])
			}
		}
		types := map[string]string{".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
		var scripts int
		for _, m := range regexp.MustCompile(`(?i)\b(src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			ref := m[2]
			if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
				t.Errorf("the page refers to %q, which is not a same-origin path", ref)
				continue
			}
			if ref == "/openapi.json" {
				continue
			}
			res := host.Get(t, ref)
			if res.Status != http.StatusOK || len(res.Body) == 0 {
				t.Errorf("GET %s: status %d, %d bytes", ref, res.Status, len(res.Body))
				continue
			}
			want := types[filepath.Ext(ref)]
			if ct := res.Header.Get("Content-Type"); want == "" || !strings.HasPrefix(ct, want) {
				t.Errorf("GET %s: Content-Type %q, want %s", ref, ct, want)
			}
			if strings.EqualFold(m[1], "src") {
				scripts++
			}
		}
		if scripts < 2 {
			t.Errorf("the page loads %d scripts, want Swagger UI and its start-up script", scripts)
		}
	})
}

// lookup follows keys through nested objects, or returns nil.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// withoutServers returns the document without its servers, which a
// document printed without a listener may state differently.
func withoutServers(doc any) any {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		if k != "servers" {
			c[k] = v
		}
	}
	return c
}

func eventuallyGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !hosttest.ProcessGone(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
