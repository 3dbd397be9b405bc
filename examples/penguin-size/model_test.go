package main

import (
	"context"
	"errors"
	"testing"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/modeltest"
)

// TestContract serves the model over gRPC inside the test, as the host
// would, and checks its metadata, its schemas and its examples.
func TestContract(t *testing.T) {
	modeltest.Check(t, newModel())
}

func TestPredict(t *testing.T) {
	tests := []struct {
		flipper float64
		want    Output
	}{
		{flipper: 190, want: Output{BodyMassG: 3660}},
		{flipper: 217, want: Output{BodyMassG: 5001}},
		{flipper: 172, want: Output{BodyMassG: 2765}},
		{flipper: 231, want: Output{BodyMassG: 5697}},
		{flipper: 160, want: Output{BodyMassG: 2169, Extrapolated: true}},
		{flipper: 240, want: Output{BodyMassG: 6144, Extrapolated: true}},
	}
	m := newModel()
	for _, tt := range tests {
		got, err := m.PredictTyped(context.Background(), Input{FlipperLengthMM: tt.flipper})
		if err != nil {
			t.Errorf("flipper %g mm: got error %v, want %+v", tt.flipper, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("flipper %g mm: got %+v, want %+v", tt.flipper, got, tt.want)
		}
	}
}

func TestPredictRejectsImplausibleFlippers(t *testing.T) {
	m := newModel()
	for _, flipper := range []float64{0, -5, 149.9, 250.1, 1e9} {
		_, err := m.PredictTyped(context.Background(), Input{FlipperLengthMM: flipper})
		var ie *sdk.InputError
		if !errors.As(err, &ie) || len(ie.Fields) != 1 || ie.Fields[0].Pointer != "/flipper_length_mm" {
			t.Errorf("flipper %g mm: got error %v, want an input error at /flipper_length_mm", flipper, err)
		}
	}
}

// TestOverTheWire sends JSON through the served model, as the host does.
func TestOverTheWire(t *testing.T) {
	remote := modeltest.Check(t, newModel())
	tests := []struct {
		input   string
		want    string
		wantErr error
	}{
		{input: `{"flipper_length_mm": 200}`, want: `{"body_mass_g":4156,"extrapolated":false}`},
		{input: `{"flipper_length_mm": 300}`, wantErr: sdk.ErrInvalidInput},
		{input: `{"flipper_length_mm": "200"}`, wantErr: sdk.ErrInvalidInput},
		{input: `{"flipper_length": 200}`, wantErr: sdk.ErrInvalidInput},
	}
	for _, tt := range tests {
		got, err := remote.Predict(context.Background(), []byte(tt.input))
		switch {
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("Predict(%s): got error %v, want %v", tt.input, err, tt.wantErr)
		case tt.wantErr == nil && (err != nil || string(got) != tt.want):
			t.Errorf("Predict(%s): got %s, %v; want %s", tt.input, got, err, tt.want)
		}
	}
}
