using Dmp.Native;

namespace Dmp.Stats;

/// <summary>
/// The counters of one device, fed by its connections, each through a <see cref="CounterShard"/> of its own: the
/// request path only touches its own slot; the module's lock is taken when connections come and go and when
/// someone reads or resets, never per request. A reset records a point to count from instead of writing into
/// the slots, so it cannot race with counting. Everything lives in a <see cref="CounterFile"/>; when that is a
/// file left by a daemon that died, the counts go on from it (<see cref="TookOver"/>).
/// </summary>
internal sealed unsafe class DeviceStatistics : IDisposable
{
    private readonly ModuleStatistics _module;
    private readonly MappedMemory _memory;
    private readonly CounterFile* _file;

    /// <exception cref="InvalidDataException">The counters left there are not of this layout.</exception>
    internal DeviceStatistics(ModuleStatistics module, string name, MappedMemory memory, bool created)
    {
        _module = module;
        _memory = memory;
        _file = (CounterFile*)memory.Start;
        Name = name;
        TookOver = !created;
        if (created)
        {
            _file->Signature = CounterFile.ExpectedSignature;
            _file->Size = sizeof(CounterFile);
        }
        else if (_file->Signature != CounterFile.ExpectedSignature || _file->Size != sizeof(CounterFile))
        {
            memory.Dispose();
            throw new InvalidDataException($"the counters kept for {name} are not of this version of dmp");
        }
        else
        {
            Recover();
        }
    }

    public static long FileSize => sizeof(CounterFile);

    public string Name { get; }

    /// <summary>False to serve without counting, so that a benchmark can measure what counting costs.</summary>
    public bool Enabled => _module.Enabled;

    /// <summary>True when the counts were left by a daemon that is gone, and go on from there.</summary>
    public bool TookOver { get; }

    /// <summary>Reads the kernel's <c>/sys/block/NAME/stat</c> at each reset, for <see cref="KernelBaseline"/>; null for a device the kernel does not have.</summary>
    public Func<string>? KernelStat { get; set; }

    /// <summary>The kernel's <c>/sys/block/NAME/stat</c> line when the counters were last zeroed.</summary>
    public string KernelBaseline
    {
        get
        {
            lock (_module.Lock)
            {
                return LastReset.KernelStatText;
            }
        }
    }

    /// <summary>Requests the kernel had in flight when this device's sockets were replaced (daemons took it over, or the
    /// kernel gave a socket up), since the last reset: a request among them that had been counted and not answered on
    /// the old socket was sent again, and is counted twice.</summary>
    public long InFlightAtTakeovers
    {
        get
        {
            lock (_module.Lock)
            {
                return _file->InFlightAtTakeovers - LastReset.InFlightAtTakeovers;
            }
        }
    }

    private ref ResetPoint LastReset => ref _file->Resets[_file->ResetIndex];

    /// <summary>A shard for a new connection; its counts add up here for as long as the device is counted.</summary>
    public CounterShard OpenShard()
    {
        lock (_module.Lock)
        {
            int slot = Find(ShardState.Empty);
            if (slot < 0)
            {
                slot = Find(ShardState.Finished);
                if (slot < 0)
                {
                    throw new InvalidOperationException($"{Name} has {CounterFile.ShardCapacity} connections already");
                }

                Fold(slot);
            }

            ShardCounters* counters = SlotAt(slot);
            *counters = default;
            counters->State = ShardState.InUse;
            return new CounterShard(counters);
        }
    }

    /// <summary>A connection has ended: its counts stay (the slot is folded away only when needed again).</summary>
    public void CloseShard(CounterShard shard)
    {
        lock (_module.Lock)
        {
            shard.Slot->State = ShardState.Finished;
        }
    }

    /// <summary>The kernel had <paramref name="requests"/> in flight when this daemon took the device over, or replaced a socket of it.</summary>
    public void RecordTakeover(long requests)
    {
        lock (_module.Lock)
        {
            _file->InFlightAtTakeovers += requests;
        }
    }

    /// <summary>Counts since this device's last reset (or the module's).</summary>
    public IoCounters Snapshot()
    {
        lock (_module.Lock)
        {
            return SinceReset;
        }
    }

    /// <summary>Zeroes this device's counters alone (the module's sum drops by as much).</summary>
    public void Reset() => SnapshotAndReset();

    /// <summary>Reads and zeroes this device's counters alone, in one step (the module's sum drops by as much).</summary>
    public IoCounters SnapshotAndReset()
    {
        lock (_module.Lock)
        {
            return ResetLocked();
        }
    }

    /// <summary>
    /// Adds where each connection counting here now stands; the caller holds the module's lock. Read from the counters
    /// the request path keeps anyway, so that watching costs it nothing.
    /// </summary>
    internal void AddProgressLocked(List<ConnectionProgress> into)
    {
        for (int slot = 0; slot < CounterFile.ShardCapacity; slot++)
        {
            ShardCounters* counters = SlotAt(slot);
            if (counters->State == ShardState.InUse)
            {
                long inFlight = 0;
                for (int operation = 0; operation < IoCounters.OperationCount; operation++)
                {
                    inFlight += Volatile.Read(ref counters->InFlight[operation]);
                }

                into.Add(new ConnectionProgress((nint)counters, Name, Volatile.Read(ref counters->Sequence), inFlight));
            }
        }
    }

    /// <summary>Unmaps the counters, once the device's connections have ended.</summary>
    public void Dispose() => _memory.Dispose();

    /// <summary>Counts since the last reset; the caller holds the module's lock.</summary>
    internal IoCounters SinceReset => Total() - LastReset.Counters;

    /// <summary>Zeroes the counters and returns what they held; the caller holds the module's lock. The new reset point
    /// (with the kernel's counters as they are now) is written beside the last and then made the last, in one store.</summary>
    internal IoCounters ResetLocked()
    {
        IoCounters total = Total();
        IoCounters sinceReset = total - LastReset.Counters;
        int next = 1 - _file->ResetIndex;
        ref ResetPoint point = ref _file->Resets[next];
        point.Counters = total;
        point.InFlightAtTakeovers = _file->InFlightAtTakeovers;
        point.KernelStatText = KernelStat?.Invoke() ?? "";
        Volatile.Write(ref _file->ResetIndex, next);
        return sinceReset;
    }

    private ShardCounters* SlotAt(int slot) => (ShardCounters*)&_file->Slots + slot;

    private IoCounters Total()
    {
        IoCounters total = _file->Retired;
        for (int slot = 0; slot < CounterFile.ShardCapacity; slot++)
        {
            if (SlotAt(slot)->State != ShardState.Empty)
            {
                total += CounterShard.Read(SlotAt(slot));
            }
        }

        return total;
    }

    private int Find(ShardState state)
    {
        for (int slot = 0; slot < CounterFile.ShardCapacity; slot++)
        {
            if (SlotAt(slot)->State == state)
            {
                return slot;
            }
        }

        return -1;
    }

    /// <summary>
    /// Moves a finished slot's counts into <see cref="CounterFile.Retired"/> and frees the slot. Each step leaves
    /// the file recoverable: the sum is written from the copy taken before, with the slot named in
    /// <see cref="CounterFile.FoldingSlot"/> until it is free, so a daemon killed half-way is finished by the next.
    /// </summary>
    private void Fold(int slot)
    {
        _file->RetiredBeforeFold = _file->Retired;
        Volatile.Write(ref _file->FoldingSlot, slot + 1);
        FinishFold();
    }

    private void FinishFold()
    {
        int slot = _file->FoldingSlot - 1;
        _file->Retired = _file->RetiredBeforeFold + SlotAt(slot)->Counters;
        SlotAt(slot)->State = ShardState.Empty;
        Volatile.Write(ref _file->FoldingSlot, 0);
    }

    /// <summary>
    /// Takes over counters left by a daemon that died: a fold it left half-done is finished, and its connections'
    /// slots are finished too (their counts stay; their in-flight gauges, of requests it never answered, go, as the
    /// kernel sends those again).
    /// </summary>
    private void Recover()
    {
        if (_file->FoldingSlot is > 0 and <= CounterFile.ShardCapacity)
        {
            FinishFold();
        }

        for (int slot = 0; slot < CounterFile.ShardCapacity; slot++)
        {
            ShardCounters* counters = SlotAt(slot);
            if (counters->State == ShardState.InUse)
            {
                counters->InFlight = default;
                counters->State = ShardState.Finished;
            }
        }
    }
}
