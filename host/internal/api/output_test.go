package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/schemacheck"
)

// scoreModel declares {"score": number} outputs and answers whatever its
// input's "answer" holds.
type scoreModel struct{}

func (scoreModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: "score", DisplayName: "Score", Version: "1.0.0"}
}
func (scoreModel) InputSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (scoreModel) OutputSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"score":{"type":"number","minimum":0,"maximum":1}},"required":["score"],"additionalProperties":false}`)
}
func (scoreModel) Predict(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
	var req struct {
		Answer json.RawMessage `json:"answer"`
	}
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, err
	}
	return req.Answer, nil
}

func TestOutputMustMatchTheOutputSchema(t *testing.T) {
	reg := registry.New()
	e, err := registry.NewEntry(scoreModel{}, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(e); err != nil {
		t.Fatal(err)
	}
	api := New(reg, Options{})
	for _, tt := range []struct {
		answer string
		status int
	}{
		{`{"score":0.25}`, http.StatusOK},
		{`{"score":"high"}`, http.StatusBadGateway},
		{`{"score":2}`, http.StatusBadGateway},
		{`{"label":"x"}`, http.StatusBadGateway},
		{`[0.25]`, http.StatusBadGateway},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/models/score/predict", strings.NewReader(`{"answer":`+tt.answer+`}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("answer %s: status %d, want %d; body %s", tt.answer, rec.Code, tt.status, rec.Body)
			continue
		}
		if tt.status == http.StatusBadGateway {
			body := rec.Body.String()
			if !strings.Contains(body, "bad-plugin-response") || !strings.Contains(body, "does not match its own output schema") {
				t.Errorf("answer %s: body %s, want a bad-plugin-response problem about the output schema", tt.answer, body)
			}
		}
	}
}

func TestCheckOutputError(t *testing.T) {
	schema, err := schemacheck.Compile(scoreModel{}.OutputSchema())
	if err != nil {
		t.Fatal(err)
	}
	err = checkOutput(schema, "score", []byte(`{"score":"high"}`))
	if err == nil || !strings.Contains(err.Error(), "/score") {
		t.Errorf("checkOutput error = %v, want one that locates /score for the log", err)
	}
	if err := checkOutput(nil, "score", []byte(`[]`)); err != nil {
		t.Errorf("checkOutput without a schema = %v", err)
	}
}

// BenchmarkCheckOutput measures what validating an output costs, for the
// iris model's answer.
func BenchmarkCheckOutput(b *testing.B) {
	schema, err := schemacheck.Compile(json.RawMessage(`{"type":"object","properties":{"species":{"type":"string","enum":["setosa","versicolor","virginica"]},
		"probabilities":{"type":"object","additionalProperties":{"type":"number","minimum":0,"maximum":1}}},"required":["species","probabilities"],"additionalProperties":false}`))
	if err != nil {
		b.Fatal(err)
	}
	out := []byte(`{"species":"setosa","probabilities":{"setosa":0.9975,"versicolor":0.0025,"virginica":0}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkOutput(schema, "iris_model", out); err != nil {
			b.Fatal(err)
		}
	}
}
