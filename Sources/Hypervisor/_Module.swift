// Hypervisor module
