// Command provision is the district technician's tool for station
// identities: the district CA, hub and station bundles, replacement and
// revocation. See package firmware-config/provision and docs/operations.md.
//
//	provision ca init
//	provision hub -hosts hub.example.cn,10.0.0.2
//	provision station -registry stations.toml -broker ssl://hub.example.cn:8883 cz-xb-sanjing-xinqiao
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/firmware-config/provision"
)

func main() {
	m := &provision.Main{Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now}
	if err := m.Run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "provision:", vetnet.ErrorMessage(err, "en"))
		if zh := vetnet.ErrorMessage(err, "zh"); zh != vetnet.ErrorMessage(err, "en") {
			fmt.Fprintln(os.Stderr, "provision:", zh)
		}
		os.Exit(1)
	}
}
