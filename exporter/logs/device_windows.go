//go:build windows

package logs

// device is "" on Windows: volumes have no major:minor numbers, and the
// alerts then take the directories' filesystems as unknown.
func device(string) string { return "" }
