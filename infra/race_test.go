//go:build race

package main

// raceDetector: built with -race. jsii.Close races with the JSII runtime's
// own goroutine that waits for the node process (both call exec.Cmd.Wait;
// jsii-runtime-go v1.127.0), which the race detector reports as a failure of
// this package although no code of ours is involved. Under -race TestMain
// therefore leaves the node process to exit on its own when its stdin
// closes with this process (leaving its 2 MB runtime copy in the temp dir).
const raceDetector = true
