(import 'overview.libsonnet') +
(import 'resources.libsonnet') +
(import 'reasoning.libsonnet') +
(import 'gpu.libsonnet') +
(import 'remediation.libsonnet')
