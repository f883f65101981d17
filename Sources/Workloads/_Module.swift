// Workloads module
