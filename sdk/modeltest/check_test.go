package modeltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/modeltest"
)

// recorder is a testing.TB that records failures instead of failing the
// real test. Fatal stops the calling goroutine, as in a real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

// check runs modeltest.Check against a recorder and returns what it
// reported.
func check(t *testing.T, model sdk.MLModel) (errs []string, fatal bool) {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		modeltest.Check(r, model)
	}()
	<-done
	return r.errors, r.fatal
}

type rangeIn struct {
	X float64 `json:"x" jsonschema:"minimum=0,maximum=10"`
}

type rangeOut struct {
	Y float64 `json:"y" jsonschema:"maximum=100"`
}

var rangeInfo = sdk.Info{QualifiedName: "range", DisplayName: "Range", Version: "1.0.0"}

func TestCheckReportsProblems(t *testing.T) {
	predict := func(_ context.Context, in rangeIn) (rangeOut, error) {
		switch in.X {
		case 3:
			return rangeOut{}, sdk.InvalidInput("three is rejected")
		case 4:
			return rangeOut{Y: 1000}, nil // beyond the output schema's maximum
		}
		return rangeOut{Y: in.X}, nil
	}
	tests := []struct {
		name      string
		model     sdk.MLModel
		wantErrs  []string // one substring per reported problem, in order
		wantFatal bool
	}{
		{
			name:  "good model",
			model: sdk.NewModel(rangeInfo, predict, sdk.WithExamples(rangeIn{X: 1}, rangeIn{X: 2})),
		},
		{
			name:     "no examples",
			model:    sdk.NewModel(rangeInfo, predict),
			wantErrs: []string{`input schema has no "examples"`},
		},
		{
			name:     "example outside the input schema",
			model:    sdk.NewModel(rangeInfo, predict, sdk.WithExamples(rangeIn{X: 1}, rangeIn{X: 11})),
			wantErrs: []string{`example 1 {"x":11} does not satisfy the input schema`},
		},
		{
			name:     "example the model rejects",
			model:    sdk.NewModel(rangeInfo, predict, sdk.WithExamples(rangeIn{X: 3})),
			wantErrs: []string{`predict example 0 {"x":3}: invalid input: three is rejected`},
		},
		{
			name:     "output outside the output schema",
			model:    sdk.NewModel(rangeInfo, predict, sdk.WithExamples(rangeIn{X: 4})),
			wantErrs: []string{`output {"y":1000} of example 0 does not satisfy the output schema`},
		},
		{
			name:      "invalid metadata",
			model:     sdk.NewModel(sdk.Info{QualifiedName: "Range", DisplayName: "Range", Version: "1"}, predict, sdk.WithExamples(rangeIn{X: 1})),
			wantErrs:  []string{"model cannot be served: invalid model metadata"},
			wantFatal: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, fatal := check(t, tt.model)
			if fatal != tt.wantFatal {
				t.Errorf("Check stopped the test: got %t, want %t", fatal, tt.wantFatal)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("Check reported %d problems, want %d: %q", len(errs), len(tt.wantErrs), errs)
			}
			for i, want := range tt.wantErrs {
				if !strings.Contains(errs[i], want) {
					t.Errorf("Check problem %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
}

func TestPredict(t *testing.T) {
	m := sdk.NewModel(rangeInfo, func(_ context.Context, in rangeIn) (rangeOut, error) {
		return rangeOut{Y: 2 * in.X}, nil
	})
	got, err := modeltest.Predict(t, m, `{"x":2.5}`)
	if err != nil || string(got) != `{"y":5}` {
		t.Errorf(`Predict({"x":2.5}) = %s, %v; want {"y":5}, nil`, got, err)
	}
	_, err = modeltest.Predict(t, m, `{"x":"2.5"}`)
	if err == nil || !strings.Contains(err.Error(), "/x: got JSON string, want number") {
		t.Errorf(`Predict({"x":"2.5"}) error = %v, want an input error at /x`, err)
	}
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Errorf("Predict output %s is not JSON: %v", got, err)
	}
}
