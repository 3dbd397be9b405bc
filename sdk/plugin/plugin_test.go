package plugin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// echoIn is the input of the test model. Mode selects a behaviour.
type echoIn struct {
	Text string `json:"text" jsonschema:"description=Any text"`
	Mode string `json:"mode,omitempty" jsonschema:"enum=ok,enum=reject,enum=reject-wrapped,enum=reject-bare,enum=fail,enum=panic,enum=slow,enum=sleep"`
}

type echoOut struct {
	Text   string `json:"text"`
	Length int    `json:"length" jsonschema:"minimum=0"`
}

var echoInfo = sdk.Info{
	QualifiedName: "echo",
	DisplayName:   "Echo",
	Description:   "Returns its input text and its length.",
	Version:       "1.2.3-rc.1",
}

// newEcho returns a model that echoes its text, or fails in the way its
// mode asks for.
func newEcho() *sdk.Model[echoIn, echoOut] {
	return sdk.NewModel(echoInfo, func(ctx context.Context, in echoIn) (echoOut, error) {
		switch in.Mode {
		case "reject":
			return echoOut{}, sdk.InvalidInput("text is unacceptable",
				sdk.FieldError{Pointer: "/text", Detail: "must not be rude"},
				sdk.FieldError{Pointer: "", Detail: "and the whole input is odd"})
		case "reject-wrapped":
			return echoOut{}, fmt.Errorf("%w: text is too %s", sdk.ErrInvalidInput, in.Text)
		case "reject-bare":
			return echoOut{}, sdk.ErrInvalidInput
		case "fail":
			return echoOut{}, errors.New("disk on fire")
		case "panic":
			panic("boom")
		case "slow":
			select {
			case <-ctx.Done():
				return echoOut{}, ctx.Err()
			case <-time.After(10 * time.Second):
				return echoOut{}, errors.New("slow model was not cancelled")
			}
		case "sleep":
			// Ignores its context, as careless models do.
			time.Sleep(500 * time.Millisecond)
		}
		sdk.Logger(ctx).Info("echoing", "length", len(in.Text))
		return echoOut{Text: in.Text, Length: len(in.Text)}, nil
	}, sdk.WithExamples(echoIn{Text: "hello"}))
}

// jsonValue decodes a JSON document for comparison with cmp.
func jsonValue(t *testing.T, doc []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

func TestDescribeRoundTrip(t *testing.T) {
	model := newEcho()
	remote := plugin.ServeTest(t, model)

	if diff := cmp.Diff(model.Info(), remote.Info()); diff != "" {
		t.Errorf("Info over gRPC differs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(jsonValue(t, model.InputSchema()), jsonValue(t, remote.InputSchema())); diff != "" {
		t.Errorf("InputSchema over gRPC differs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(jsonValue(t, model.OutputSchema()), jsonValue(t, remote.OutputSchema())); diff != "" {
		t.Errorf("OutputSchema over gRPC differs (-want +got):\n%s", diff)
	}
	if got, want := remote.SDKVersion(), plugin.SDKVersion; got != want {
		t.Errorf("SDKVersion() = %q, want %q", got, want)
	}
}

func TestPredictOverGRPC(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	tests := []struct {
		name  string
		input string
		want  string // output JSON when the call succeeds
		// For an error, the error's kind, and for an input error its value.
		wantErr      error
		wantInputErr *sdk.InputError
	}{
		{
			name:  "ok",
			input: `{"text":"hi"}`,
			want:  `{"text":"hi","length":2}`,
		},
		{
			name:  "unicode survives",
			input: `{"text":"pingüino 🐧"}`,
			want:  `{"text":"pingüino 🐧","length":14}`,
		},
		{
			name:         "input error keeps detail and fields",
			input:        `{"text":"x","mode":"reject"}`,
			wantErr:      sdk.ErrInvalidInput,
			wantInputErr: &sdk.InputError{Detail: "text is unacceptable", Fields: []sdk.FieldError{{Pointer: "/text", Detail: "must not be rude"}, {Pointer: "", Detail: "and the whole input is odd"}}},
		},
		{
			name:         "wrapped ErrInvalidInput is an input error without a doubled prefix",
			input:        `{"text":"loud","mode":"reject-wrapped"}`,
			wantErr:      sdk.ErrInvalidInput,
			wantInputErr: &sdk.InputError{Detail: "text is too loud"},
		},
		{
			name:         "bare ErrInvalidInput",
			input:        `{"text":"x","mode":"reject-bare"}`,
			wantErr:      sdk.ErrInvalidInput,
			wantInputErr: &sdk.InputError{},
		},
		{
			name:         "decode error from the SDK crosses the wire",
			input:        `{"text":"x","colour":"red"}`,
			wantErr:      sdk.ErrInvalidInput,
			wantInputErr: &sdk.InputError{Fields: []sdk.FieldError{{Pointer: "/colour", Detail: "unknown field"}}},
		},
		{
			name:    "internal error",
			input:   `{"text":"x","mode":"fail"}`,
			wantErr: plugin.ErrModelFailed,
		},
		{
			name:    "panic",
			input:   `{"text":"x","mode":"panic"}`,
			wantErr: plugin.ErrModelFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := remote.Predict(context.Background(), json.RawMessage(tt.input))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Predict(%s) error = %v, want nil", tt.input, err)
				}
				if diff := cmp.Diff(jsonValue(t, []byte(tt.want)), jsonValue(t, got)); diff != "" {
					t.Errorf("Predict(%s) output differs (-want +got):\n%s", tt.input, diff)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Predict(%s) error = %v, want one matching %v", tt.input, err, tt.wantErr)
			}
			if tt.wantErr == plugin.ErrModelFailed && errors.Is(err, sdk.ErrInvalidInput) {
				t.Errorf("Predict(%s) error = %v also matches ErrInvalidInput, want ErrModelFailed only", tt.input, err)
			}
			if tt.wantInputErr != nil {
				var ie *sdk.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("Predict(%s) error = %T %v, want an *sdk.InputError", tt.input, err, err)
				}
				if diff := cmp.Diff(tt.wantInputErr, ie); diff != "" {
					t.Errorf("Predict(%s) input error differs (-want +got):\n%s", tt.input, diff)
				}
			}
		})
	}
}

func TestInternalErrorCarriesDetail(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	for _, tt := range []struct{ mode, want string }{
		{"fail", "disk on fire"},
		{"panic", "model panicked: boom"},
	} {
		_, err := remote.Predict(context.Background(), json.RawMessage(`{"text":"x","mode":"`+tt.mode+`"}`))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Predict(mode %s) error = %v, want it to contain %q", tt.mode, err, tt.want)
		}
	}
}

func TestServerSurvivesPanics(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	ctx := context.Background()
	for i := range 3 {
		if _, err := remote.Predict(ctx, json.RawMessage(`{"text":"x","mode":"panic"}`)); !errors.Is(err, plugin.ErrModelFailed) {
			t.Fatalf("panic %d: error = %v, want ErrModelFailed", i, err)
		}
		got, err := remote.Predict(ctx, json.RawMessage(`{"text":"still here"}`))
		if err != nil {
			t.Fatalf("Predict after panic %d: %v", i, err)
		}
		if want := `{"text":"still here","length":10}`; string(got) != want {
			t.Errorf("Predict after panic %d = %s, want %s", i, got, want)
		}
	}
}

func TestPredictContext(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	tests := []struct {
		name    string
		mode    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{
			name: "deadline, model honours its context",
			mode: "slow",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 100*time.Millisecond)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "deadline, model ignores its context",
			mode: "sleep",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "cancelled",
			mode: "slow",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			_, err := remote.Predict(ctx, json.RawMessage(`{"text":"x","mode":"`+tt.mode+`"}`))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Predict error = %v, want one matching %v", err, tt.wantErr)
			}
			if errors.Is(err, plugin.ErrModelFailed) || errors.Is(err, sdk.ErrInvalidInput) {
				t.Errorf("Predict error = %v, want neither ErrModelFailed nor ErrInvalidInput", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Predict returned after %v, want soon after the context ended", elapsed)
			}
		})
	}
}

func TestPredictBatch(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	inputs := []string{
		`{"text":"a"}`,
		`{"text":"x","mode":"reject"}`,
		`{"text":"bb"}`,
		`{"text":"x","mode":"fail"}`,
		`{"text":"x","mode":"panic"}`,
		`not json`,
		`{"text":"ccc"}`,
	}
	raw := make([]json.RawMessage, len(inputs))
	for i, in := range inputs {
		raw[i] = json.RawMessage(in)
	}
	outputs, errs, err := remote.PredictBatch(context.Background(), raw)
	if err != nil {
		t.Fatalf("PredictBatch error = %v, want nil", err)
	}
	if len(outputs) != len(inputs) || len(errs) != len(inputs) {
		t.Fatalf("PredictBatch returned %d outputs and %d errors, want %d of each", len(outputs), len(errs), len(inputs))
	}
	want := []struct {
		output string
		err    error
	}{
		{output: `{"text":"a","length":1}`},
		{err: sdk.ErrInvalidInput},
		{output: `{"text":"bb","length":2}`},
		{err: plugin.ErrModelFailed},
		{err: plugin.ErrModelFailed},
		{err: sdk.ErrInvalidInput},
		{output: `{"text":"ccc","length":3}`},
	}
	for i, w := range want {
		if w.err != nil {
			if !errors.Is(errs[i], w.err) {
				t.Errorf("item %d (%s): got error %v, want one matching %v", i, inputs[i], errs[i], w.err)
			}
			if outputs[i] != nil {
				t.Errorf("item %d (%s): got output %s alongside an error, want none", i, inputs[i], outputs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("item %d (%s): got error %v, want nil", i, inputs[i], errs[i])
		}
		if got := string(outputs[i]); got != w.output {
			t.Errorf("item %d (%s): got output %s, want %s", i, inputs[i], got, w.output)
		}
	}
}

func TestPredictBatchEmpty(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	outputs, errs, err := remote.PredictBatch(context.Background(), nil)
	if err != nil || len(outputs) != 0 || len(errs) != 0 {
		t.Errorf("PredictBatch(nil) = %d outputs, %d errors, %v; want 0, 0, nil", len(outputs), len(errs), err)
	}
}

func TestPredictBatchDeadline(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := remote.PredictBatch(ctx, []json.RawMessage{
		json.RawMessage(`{"text":"a"}`),
		json.RawMessage(`{"text":"x","mode":"slow"}`),
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PredictBatch error = %v, want one matching context.DeadlineExceeded", err)
	}
}

// TestLargeMessages sends an input and receives an output well above gRPC's
// default 4 MiB message limit.
func TestLargeMessages(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	const size = 8 << 20
	text := strings.Repeat("a", size)
	input, err := json.Marshal(echoIn{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	out, err := remote.Predict(context.Background(), input)
	if err != nil {
		t.Fatalf("Predict(%d-byte input) error = %v, want nil", len(input), err)
	}
	var got echoOut
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode output: %v", err)
	}
	if got.Length != size || got.Text != text {
		t.Errorf("Predict(%d-byte text) = text of %d bytes, length %d; want both %d", size, len(got.Text), got.Length, size)
	}

	outputs, errs, err := remote.PredictBatch(context.Background(), []json.RawMessage{input})
	if err != nil {
		t.Fatalf("PredictBatch(%d bytes) error = %v, want nil", len(input), err)
	}
	if errs[0] != nil || len(outputs[0]) < size {
		t.Errorf("PredictBatch = %d bytes, %v; want more than %d bytes, nil", len(outputs[0]), errs[0], size)
	}
}

func TestConcurrentPredict(t *testing.T) {
	remote := plugin.ServeTest(t, newEcho())
	const n = 32
	errc := make(chan error, n)
	for i := range n {
		go func() {
			text := strings.Repeat("x", i)
			out, err := remote.Predict(context.Background(), json.RawMessage(`{"text":"`+text+`"}`))
			if err == nil {
				if want := fmt.Sprintf(`{"text":"%s","length":%d}`, text, i); string(out) != want {
					err = fmt.Errorf("got %s, want %s", out, want)
				}
			}
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// handModel implements sdk.MLModel by hand.
type handModel struct {
	info    sdk.Info
	in, out json.RawMessage
}

func (m handModel) Info() sdk.Info                { return m.info }
func (m handModel) InputSchema() json.RawMessage  { return m.in }
func (m handModel) OutputSchema() json.RawMessage { return m.out }
func (m handModel) Predict(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	return input, nil
}

func TestHandWrittenModel(t *testing.T) {
	m := handModel{
		info: echoInfo,
		in:   json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}`),
		out:  json.RawMessage(`{"type":"object"}`),
	}
	remote := plugin.ServeTest(t, m)
	got, err := remote.Predict(context.Background(), json.RawMessage(`{"any":["thing"]}`))
	if err != nil || string(got) != `{"any":["thing"]}` {
		t.Errorf(`Predict({"any":["thing"]}) = %s, %v; want the input back, nil`, got, err)
	}
}
