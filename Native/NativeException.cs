namespace Dmp.Native;

/// <summary>A failed syscall on the control path, carrying errno and what was being done.</summary>
internal sealed class NativeException : Exception
{
    public NativeException(string operation, int errno)
        : base($"{operation}: {Errno.Describe(errno)}")
    {
        Operation = operation;
        ErrorNumber = errno;
    }

    public string Operation { get; }

    public int ErrorNumber { get; }

    /// <summary>Throws for the errno of the call that just failed.</summary>
    public static NativeException FromLast(string operation) => new(operation, Errno.Last);
}
