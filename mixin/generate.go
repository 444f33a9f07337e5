package mixin

//go:generate go run ./build --root=.. --format
