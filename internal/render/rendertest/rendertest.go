// Package rendertest writes generated kustomize trees for tests and
// benchmarks of the render and apply paths.
package rendertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// OverlayPath is the Kustomization path, relative to the folder given to
// GenerateOverlay, of the overlay it writes.
const OverlayPath = "./overlay"

// Image is the image every generated Deployment runs, after the overlay's
// images override.
const Image = "registry.example.com/bench/app:1.0.0"

// GenerateOverlay writes into dir a kustomize base of n objects and an
// overlay of it at OverlayPath. Object i is a ConfigMap, a Deployment or a
// Service as i%3 is 0, 1 or 2; Deployment i reads ConfigMap i-1 through
// envFrom and Service i+1 selects its pods, so the overlay's namePrefix and
// commonLabels have references to rewrite. Objects have no namespace: the
// Kustomization's targetNamespace gives them one. The overlay prefixes names
// with "bench-", labels everything bench: "true" and sets the image to Image.
// A third of the objects are Services: applying n = 1,000 needs a Service
// IP range larger than a /24 on the API server.
func GenerateOverlay(dir string, n int) error {
	if n < 0 {
		return fmt.Errorf("generating an overlay of %d objects: n must not be negative", n)
	}
	var docs [3]strings.Builder // ConfigMaps, Deployments, Services
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&docs[0], configMap, i)
		case 1:
			fmt.Fprintf(&docs[1], deployment, i, i, i, i, i-1)
		case 2:
			fmt.Fprintf(&docs[2], service, i, i-1)
		}
	}
	files := map[string]string{
		"base/configmaps.yaml":          docs[0].String(),
		"base/deployments.yaml":         docs[1].String(),
		"base/services.yaml":            docs[2].String(),
		"base/kustomization.yaml":       baseKustomization,
		"overlay/kustomization.yaml":    overlayKustomization,
		"overlay/replicas.patch.yaml":   replicasPatch,
		"overlay/annotations.patch.yml": annotationsPatch,
	}
	var errs []error
	for name, content := range files {
		errs = append(errs, writeFile(filepath.Join(dir, name), content))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("generating an overlay of %d objects in %s: %w", n, dir, err)
	}
	return nil
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

const configMap = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-%[1]d
data:
  INDEX: "%[1]d"
  GREETING: hello
`

const deployment = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
spec:
  selector:
    matchLabels:
      app: app-%d
  template:
    metadata:
      labels:
        app: app-%d
    spec:
      containers:
        - name: app
          image: app
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: INDEX
              value: "%d"
          envFrom:
            - configMapRef:
                name: config-%d
`

const service = `---
apiVersion: v1
kind: Service
metadata:
  name: app-%d
spec:
  selector:
    app: app-%d
  ports:
    - name: http
      port: 80
      targetPort: http
`

const baseKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - configmaps.yaml
  - deployments.yaml
  - services.yaml
`

const overlayKustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: bench-
labels:
  - pairs:
      bench: "true"
    includeSelectors: false
resources:
  - ../base
patches:
  - path: replicas.patch.yaml
    target:
      kind: Deployment
  - path: annotations.patch.yml
    target:
      kind: Service
images:
  - name: app
    newName: registry.example.com/bench/app
    newTag: 1.0.0
`

const replicasPatch = `- op: add
  path: /spec/replicas
  value: 1
`

const annotationsPatch = `apiVersion: v1
kind: Service
metadata:
  name: any
  annotations:
    bench.example.com/generated: "true"
`
