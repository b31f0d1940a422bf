//go:build !linux

package devstack

import "syscall"

// procAttr puts an emulator in its own process group, so Stop ends its
// children too.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
