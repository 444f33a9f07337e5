(import 'gateway.libsonnet') +
(import 'rpc.libsonnet') +
(import 'resources.libsonnet') +
(import 'logs.libsonnet') +
(import 'reasoning.libsonnet') +
(import 'gpu.libsonnet') +
(import 'clawwatch.libsonnet')
