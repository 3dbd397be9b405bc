package benchmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
	"github.com/modelhost/modelhost/sdk/modeltest"
)

const setosa = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`

func TestEcho(t *testing.T) {
	remote := modeltest.Check(t, Echo(""))
	if got := remote.Info().QualifiedName; got != DefaultEchoName {
		t.Errorf("Echo(\"\") name = %q, want %q", got, DefaultEchoName)
	}
	out, err := remote.Predict(context.Background(), json.RawMessage(setosa))
	if err != nil || string(out) != setosa {
		t.Errorf("Predict(%s) = %s, %v; want the input back", setosa, out, err)
	}
	if !bytes.Equal(Echo("x").InputSchema(), irismodel.New().InputSchema()) {
		t.Error("echo's input schema differs from the iris model's")
	}
}

func TestIrisRenamed(t *testing.T) {
	remote := modeltest.Check(t, Iris("iris_7"))
	if got := remote.Info().QualifiedName; got != "iris_7" {
		t.Errorf("Iris(iris_7) name = %q", got)
	}
	want, err := irismodel.New().Predict(context.Background(), json.RawMessage(setosa))
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Predict(context.Background(), json.RawMessage(setosa))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("Predict = %s, %v; want %s as iris_model answers", got, err, want)
	}
	if got := Iris("").Info().QualifiedName; got != "iris_model" {
		t.Errorf("Iris(\"\") name = %q, want iris_model", got)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	for _, tt := range []struct {
		env  map[string]string
		name string
	}{
		{nil, DefaultEchoName},
		{map[string]string{EnvModel: "echo", EnvName: "e1"}, "e1"},
		{map[string]string{EnvModel: "iris", EnvName: "iris_3"}, "iris_3"},
		{map[string]string{EnvModel: "iris"}, "iris_model"},
	} {
		m, err := FromEnv(env(tt.env))
		if err != nil || m.Info().QualifiedName != tt.name {
			t.Errorf("FromEnv(%v) = %v, %v; want a model named %s", tt.env, m, err, tt.name)
		}
	}
	if _, err := FromEnv(env(map[string]string{EnvModel: "resnet"})); err == nil {
		t.Error("FromEnv(BENCH_MODEL=resnet): got no error")
	}
	if err := ProfileFromEnv(env(map[string]string{EnvCPUProfile: t.TempDir() + "/p", EnvCPUProfileSeconds: "x"})); err == nil {
		t.Error("ProfileFromEnv(seconds x): got no error")
	}
	if err := ProfileFromEnv(env(nil)); err != nil {
		t.Errorf("ProfileFromEnv(unset) = %v", err)
	}
}
