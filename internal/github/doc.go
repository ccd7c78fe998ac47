// Package github talks to GitHub: it verifies and parses the webhooks GitHub
// sends, and sets commit statuses through the REST API.
package github
