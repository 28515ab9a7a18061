// Package periph is the agent's adapter to periph.io's host drivers: it
// initialises them once and opens SPI ports and GPIO pins by name, with
// errors for people. Drivers (mfrc522, indicator) take the opened
// conn/v3 interfaces, so their tests run on spitest and gpiotest instead.
package periph

import (
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"

	"github.com/vetnet/vetnet"
)

var (
	initOnce sync.Once
	initErr  error
)

// Init registers the host's drivers (GPIO character devices, sysfs SPI);
// safe to call more than once.
//
// Errors: EUNAVAILABLE.
func Init() error {
	initOnce.Do(func() {
		if _, err := host.Init(); err != nil {
			initErr = vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法初始化硬件驱动", "Cannot initialise the hardware drivers.")
		}
	})
	return initErr
}

// OpenSPI opens an SPI port: "" for the first one, /dev/spidev0.0 or
// SPI0.0.
//
// Errors: EUNAVAILABLE (no such port, no permission).
func OpenSPI(name string) (spi.PortCloser, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	p, err := spireg.Open(name)
	if err != nil {
		return nil, vetnet.Wrap(vetnet.EUNAVAILABLE, err, "无法打开SPI接口", "Cannot open SPI port "+name+".")
	}
	return p, nil
}

// Pin returns the GPIO pin named name (GPIO17, a board pin such as P1_11,
// or a number).
//
// Errors: ENOTFOUND (no such pin on this board), EUNAVAILABLE.
func Pin(name string) (gpio.PinIO, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, vetnet.Errorz(vetnet.ENOTFOUND, "找不到GPIO引脚", "There is no GPIO pin "+name+" on this board.")
	}
	return p, nil
}
