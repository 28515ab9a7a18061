// Command pinhash prints the hash of a staff member's PIN for the station
// registry ([[station.staff]] pin_hash). It reads the PIN from standard
// input, so that it does not stay in the shell's history:
//
//	printf '%s' 2468 | go run ./firmware-config/cmd/pinhash
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/vetnet/vetnet"
)

func main() {
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(os.Stderr, "pinhash: give the PIN on standard input")
		os.Exit(2)
	}
	h, err := vetnet.HashPIN(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pinhash:", vetnet.ErrorMessage(err, "en"))
		os.Exit(2)
	}
	fmt.Println(h)
}
