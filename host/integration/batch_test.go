package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/hosttest"
)

// TestPredictBatch sends the three canonical iris inputs and an invalid one
// in one batch to the real iris plugin.
func TestPredictBatch(t *testing.T) {
	dir := t.TempDir()
	hosttest.Copy(t, builder.Build(t, "./plugins/iris"), filepath.Join(dir, "iris"), 0o755)
	config := strings.Replace(hostConfig(dir), "plugins {", "plugins {\n  max_batch_size = 4", 1)
	host := hosttest.Start(t, builder.Build(t, "./host/cmd/modelhost"), config)
	path := "/api/models/iris_model/predict/batch"

	inputs := []string{
		`{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`,
		`{"sepal_length":5.9,"sepal_width":3.0,"petal_length":4.2,"petal_width":1.5}`,
		`{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}`,
		`{"sepal_length":"long","sepal_width":3.0,"petal_length":5.2}`,
	}
	res := host.Post(t, path, "application/json", []byte(`{"inputs":[`+strings.Join(inputs, ",")+`]}`))
	wantStatus(t, res, http.StatusOK, "application/json")
	var body struct {
		Outputs []*struct {
			Species string `json:"species"`
		} `json:"outputs"`
		Errors []struct {
			Index  int    `json:"index"`
			Status int    `json:"status"`
			Type   string `json:"type"`
			Errors []struct {
				Pointer string `json:"pointer"`
			} `json:"errors"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatalf("decode %s: %v", res.Body, err)
	}
	var got []string
	for _, o := range body.Outputs {
		if o == nil {
			got = append(got, "null")
		} else {
			got = append(got, o.Species)
		}
	}
	if g, w := strings.Join(got, ","), "setosa,versicolor,virginica,null"; g != w {
		t.Errorf("outputs = %s, want %s; body %s", g, w, res.Body)
	}
	if len(body.Errors) != 1 {
		t.Fatalf("errors = %+v, want one; body %s", body.Errors, res.Body)
	}
	e := body.Errors[0]
	if e.Index != 3 || e.Status != http.StatusUnprocessableEntity || !strings.HasSuffix(e.Type, "#invalid-input") {
		t.Errorf("error = %+v, want index 3, status 422, type invalid-input", e)
	}
	ptrs := map[string]bool{}
	for _, f := range e.Errors {
		ptrs[f.Pointer] = true
	}
	if !ptrs["/sepal_length"] || !ptrs["/petal_width"] {
		t.Errorf("error pointers = %v, want /sepal_length and /petal_width, relative to the input", ptrs)
	}

	// plugins.max_batch_size applies.
	five := fmt.Sprintf(`{"inputs":[%s,%s]}`, strings.Join(inputs[:3], ","), strings.Join(inputs[:2], ","))
	p := wantProblem(t, host.Post(t, path, "application/json", []byte(five)), http.StatusRequestEntityTooLarge)
	if typ, _ := p["type"].(string); !strings.HasSuffix(typ, "#batch-too-large") {
		t.Errorf("type = %v, want batch-too-large", p["type"])
	}
}
