/// Scenarios that ship inside the binary.
public enum BuiltinScenarios {
    /// The scenario `overcommit run` uses when given no file (identical to Configs/default.yaml).
    public static let defaultYAML = """
        # The built-in default scenario: an overcommitted host on which every ESXi memory technique
        # acts within ten simulated seconds. Run it with `overcommit run` (no file), `make run`, or
        # `overcommit run Configs/default.yaml --out runs/default --report` for the HTML page.
        #
        # Two nginx-like web servers and two PostgreSQL-like databases booted from one image:
        # 2.5 GiB of guest memory on a 1.375 GiB host (1.8x overcommitted; scaled down from a
        # 256 GiB host so that it runs in seconds). As the databases warm their buffer pools from
        # their data files, free host memory falls through ESXi's states (minFree of this host = 6 %)
        # and each state brings in the next technique. ESXi's defaults, except where a key says why.
        name: default
        description: Two web servers and two databases, 2.5 GiB of guest memory on a 1.375 GiB host (1.8x overcommit); sharing, ballooning, compression and host swap all act.
        notes: |
          The host starts in the `high` state and backs guests with 2 MiB large pages, which are never
          shared. As the databases warm their pools, free memory falls below each state's threshold
          (a percentage of minFree) and the state brings in its technique:
          - `clear`: large pages are broken and their 4 KiB pages shared at once (pages_sharing, ksm_zero_pages);
          - `soft`: the ESX balloon policy inflates balloons by shares and the idle memory tax, and the
            guests give up free memory and page cache;
          - `hard`: pages bound for host swap are compressed first (kept only if they fit in 2 KiB), the
            rest go to the VM's swap file.

          On the console, the last `host` line says what each technique saved and how long the host
          spent in each state; the `vm` lines say how each VM is backed.

          In the report: the summary at the top, the free-memory chart (thresholds dashed, states as
          bands), and each database's stacked chart (shared, ballooned, compressed, host-swapped).
          The databases slow down the most: the host compressed or swapped pages of their pools that
          they touch again (host_swap_ins), a choice their own kernels would have made better, which
          is why ESXi balloons before it swaps.
        seed: 1
        duration: 10s
        sample_interval: 500ms
        host:
          memory: 1408MiB
          hypervisor_reserved: 256MiB
          vm_overhead: 32MiB
          # KSM's pages_to_scan 100 every 20 ms (ESXi: each VM once per Mem.ShareScanTime, 60 min)
          # would find nothing in 10 s; this rate shares the VMs' common pages within seconds.
          # salting 0: inter-VM sharing (ESXi's default, 2, shares only within each VM since 2014).
          sharing: {pages_to_scan: 4000, sleep_millisecs: 10, salting: 0}
          balloon_policy: {kind: esx}
          active_sampling: {period: 5s}   # ESXi samples every 60 s; shorter so a 10 s run shows estimates
        images:
          - name: app
            kernel_size: 24MiB
            files:
              - {path: /usr/lib/libc.so.6, size: 8MiB, style: code}
              - {path: /var/www/html, size: 64MiB, style: text}
              - {path: /var/lib/db/data, size: 256MiB, style: pointers, per_guest: true}
        guests:
          - name: web
            count: 2
            memory: 512MiB
            image: app
            workloads:
              - {kind: web, workers: 2, docroot: /var/www/html}
          - name: db
            count: 2
            memory: 768MiB
            image: app
            shares: high
            swap: {size: 384MiB, device: nvme}
            balloon: {deflate_on_oom: true}
            workloads:
              - {kind: database, buffer_pool: 320MiB, data_file: /var/lib/db/data}

        """
}
