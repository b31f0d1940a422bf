//go:build !race

package main

// raceDetector: built without -race; see race_test.go.
const raceDetector = false
