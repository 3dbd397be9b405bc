package browser

import (
	"testing"
)

// TestAPIToken runs a prediction from the form on a host whose API needs a
// bearer token: the 401 asks for the token, and the prediction then works.
func TestAPIToken(t *testing.T) {
	const token = "browser-test-token-0123456789"
	s := newSuite(t, `auth {
  tokens = ["`+token+`"]
}`)
	p := s.newPage(t, 1280, 800, false)
	p.allow("status of 401")
	p.navigate("/models/iris_model/predict") // the pages stay open
	p.do(waitReady())
	p.click("#predict-button")
	wantContains(t, "problem", p.text("#problem"), "401", "needs an API token")

	p.fill("#api-token", "wrong-token-wrong-token-wrong")
	p.click("#token-form button")
	p.waitFor(`document.getElementById('problem').textContent.includes('was not accepted')`)

	p.fill("#api-token", token)
	p.click("#token-form button")
	wantContains(t, "result", p.text("#result-highlight"), "setosa")
	if eval[string](p, `sessionStorage.getItem('modelhost.api-token')`) != token {
		t.Error("the token is not kept for the tab")
	}
}
