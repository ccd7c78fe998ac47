package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// githubStatuses speaks the one GitHub REST call the reconcile function
// makes, creating a commit status, so the binary does the work it does in
// Lambda without reaching api.github.com.
type githubStatuses struct {
	*httptest.Server
}

func newGitHubStatuses() *githubStatuses {
	return &githubStatuses{httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// POST /repos/{owner}/{repo}/statuses/{sha}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method != http.MethodPost || len(parts) != 5 || parts[0] != "repos" || parts[3] != "statuses" {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") == "" {
			http.Error(w, `{"message":"Requires authentication"}`, http.StatusUnauthorized)
			return
		}
		var st struct{ State, Context, Description string }
		if err := json.NewDecoder(r.Body).Decode(&st); err != nil || st.State == "" {
			http.Error(w, `{"message":"Problems parsing JSON"}`, http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": 1, "state": st.State, "context": st.Context, "description": st.Description})
	}))}
}
