package baseline

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/plugins/iris/irismodel"
)

func TestBaseline(t *testing.T) {
	iris := irismodel.New()
	e, err := New(Options{MaxBodyBytes: 200}, iris)
	if err != nil {
		t.Fatal(err)
	}
	const setosa = `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`
	want, err := iris.Predict(context.Background(), json.RawMessage(setosa))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, contentType, body string
		status                        int
	}{
		{"ok", "/api/models/iris_model/predict", "application/json", setosa, 200},
		{"charset", "/api/models/iris_model/predict", "application/json; charset=UTF-8", setosa, 200},
		{"unknown model", "/api/models/nope/predict", "application/json", setosa, 404},
		{"content type", "/api/models/iris_model/predict", "text/plain", setosa, 415},
		{"malformed", "/api/models/iris_model/predict", "application/json", `{"sepal_length":`, 400},
		{"schema", "/api/models/iris_model/predict", "application/json", strings.Replace(setosa, "0.2", "-1", 1), 422},
		{"too large", "/api/models/iris_model/predict", "application/json", setosa + strings.Repeat(" ", 200), 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 && rec.Body.String() != string(want) {
				t.Errorf("body = %s, want %s", rec.Body, want)
			}
		})
	}
}
