import PageContents

extension GuestKernel {
    /// A store by `pid` to `vpn` that leaves the page holding exactly `content`, where a plain
    /// write (`access(_:_:write:)`) gives the page fresh bytes of the process's content mix.
    ///
    /// The fault path is the one of any write (zero fill, copy-on-write, swap-in, host EPT
    /// fault); only the resulting bytes differ. It is how a page comes to hold bytes that
    /// exist elsewhere: memcpy of data loaded before, or a program writing what every run of
    /// it computes identically (parsed configuration, relocated library data) — duplicates
    /// that content-based page sharing finds inside one guest.
    public func access(_ pid: PID, _ vpn: VPN, storing content: PageContent) -> AccessOutcome {
        storing = content
        defer { storing = nil }
        return access(pid, vpn, write: true)
    }

    /// read(2) of one page of `file` into the user buffer at `vpn`: the page-cache read
    /// (`fileRead`), then `copy_to_user` of its bytes (mm/filemap.c `filemap_read` ->
    /// `copy_page_to_iter`), so the buffer holds the same 4096 bytes as the cached page — the
    /// double caching of a program that keeps file data in its own memory (a database's
    /// buffer pool over buffered I/O, an input file loaded into a heap). Returns the outcome
    /// of each step; the copy is nil when the read failed.
    public func read(_ pid: PID, file: FileID, page: Int, into vpn: VPN) -> (read: AccessOutcome, copy: AccessOutcome?) {
        let r = fileRead(pid, file: file, page: page)
        switch r.result {
        case .noProcess, .outOfMemory, .segv: return (r, nil)
        default: break
        }
        // fileIO has just read the cached page, so the host backs it and its bytes are here.
        guard let pfn = files[Int(file)].cachedFrame(page) else { return (r, nil) }
        return (r, access(pid, vpn, storing: frames.content[Int(pfn)]))
    }
}

extension GuestKernel {
    /// The identity of the OS image this guest booted from: equal in every guest of the image,
    /// so programs of the image's userland write the same constant data in each of them.
    public var imageSeed: UInt64 { kernelImageSeed }
}
