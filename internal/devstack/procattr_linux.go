package devstack

import "syscall"

// procAttr puts an emulator in its own process group, so Stop ends its
// children too, and asks the kernel to kill it if this process dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
