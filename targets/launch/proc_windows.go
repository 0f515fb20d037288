//go:build windows

package launch

import (
	"os/exec"
	"strconv"
)

// shellCommand runs command through cmd /C.
func shellCommand(command string) *exec.Cmd { return exec.Command("cmd", "/C", command) }

// terminate and kill end the command's process tree (taskkill /T); Windows
// has no SIGTERM, so terminate is the same forced end after a polite try.
func terminate(cmd *exec.Cmd) {
	_ = exec.Command("taskkill", "/T", "/PID", strconv.Itoa(cmd.Process.Pid)).Run()
}
func kill(cmd *exec.Cmd) {
	_ = exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid)).Run()
}
