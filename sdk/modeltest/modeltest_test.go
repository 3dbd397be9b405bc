package modeltest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/modeltest"
	"github.com/modelhost/modelhost/sdk/plugin"
)

type in struct {
	X float64 `json:"x" jsonschema:"minimum=0,maximum=100"`
}

type out struct {
	Y float64 `json:"y"`
}

func newDoubler() sdk.MLModel {
	return sdk.NewModel(sdk.Info{
		QualifiedName: "doubler",
		DisplayName:   "Doubler",
		Description:   "Doubles x.",
		Version:       "1.0.0",
	}, func(_ context.Context, i in) (out, error) {
		switch i.X {
		case 13:
			return out{}, sdk.InvalidInput("unlucky", sdk.FieldError{Pointer: "/x", Detail: "13 is not allowed"})
		case 66:
			panic("boom")
		case 99:
			return out{}, errors.New("disk on fire")
		}
		return out{Y: 2 * i.X}, nil
	}, sdk.WithExamples(in{X: 1}, in{X: 2.5}))
}

func TestCheckDoubler(t *testing.T) {
	remote := modeltest.Check(t, newDoubler())
	ctx := context.Background()

	got, err := remote.Predict(ctx, []byte(`{"x": 21}`))
	if err != nil || string(got) != `{"y":42}` {
		t.Errorf("Predict(21) = %s, %v; want {\"y\":42}, nil", got, err)
	}

	_, err = remote.Predict(ctx, []byte(`{"x": 13}`))
	var ie *sdk.InputError
	if !errors.As(err, &ie) || !errors.Is(err, sdk.ErrInvalidInput) {
		t.Fatalf("Predict(13) error = %v, want an *sdk.InputError", err)
	}
	if len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/x" || ie.Detail != "unlucky" {
		t.Errorf("Predict(13) error = %+v, want detail unlucky and one field /x", ie)
	}

	_, err = remote.Predict(ctx, []byte(`{"x": 66}`))
	if !errors.Is(err, plugin.ErrModelFailed) {
		t.Errorf("Predict(66) (panics) error = %v, want ErrModelFailed", err)
	}
	// The server survives the panic.
	if _, err := remote.Predict(ctx, []byte(`{"x": 1}`)); err != nil {
		t.Errorf("Predict after panic: %v", err)
	}

	_, err = remote.Predict(ctx, []byte(`{"x": 99}`))
	if !errors.Is(err, plugin.ErrModelFailed) || errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("Predict(99) error = %v, want ErrModelFailed only", err)
	}

	_, err = remote.Predict(ctx, []byte(`{"x": 1, "z": 2}`))
	if !errors.As(err, &ie) || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/z" {
		t.Errorf("Predict with unknown field error = %v, want an input error at /z", err)
	}
}
