//go:build !purego

package ticks

const purego = false
