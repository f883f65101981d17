/// Scenarios that ship inside the binary.
public enum BuiltinScenarios {
    /// The scenario `overcommit run` uses when given no file (identical to Configs/default.yaml).
    public static let defaultYAML = """
    # The built-in default scenario: a small host running two web servers and a database,
    # with configured guest memory above host RAM (overcommitted 1.25x). Run it with
    # `overcommit run` (no file) or `overcommit run Configs/default.yaml`.
    name: default
    description: Two nginx-like web servers and a PostgreSQL-like database on a 6 GiB host (1.25x overcommit).
    seed: 1
    duration: 20s
    sample_interval: 1s
    host:
      memory: 6GiB
      hypervisor_reserved: 256MiB
      vm_overhead: 32MiB
    templates:
      web: &web
        memory: 2GiB
        vcpus: 2
        image: linux
        swap: {size: 1GiB, device: ssd}
        workloads:
          - kind: web
            workers: 4
            worker_memory: 48MiB
    guests:
      - <<: *web
        name: web
        count: 2
      - name: db
        memory: 3GiB
        vcpus: 2
        swap: {size: 2GiB, device: nvme}
        kernel:
          vm.swappiness: 10
        workloads:
          - kind: database
            buffer_pool: 1536MiB
            hot_fraction: 20%
            hot_probability: 80%

    """
}
