using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Dmp.Tests.Daemon;

/// <summary>
/// Stands in for systemd: a real AF_UNIX datagram socket, to be named by <c>NOTIFY_SOCKET</c>, that keeps every
/// notification with the time it came. <see cref="Arrived"/> runs on the receiving thread as each one comes,
/// before the next is read, so a test can look at the world at that moment.
/// </summary>
internal sealed class NotifyListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<(TimeSpan At, string Message)> _messages = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Thread _receiver;
    private readonly string _directory;

    /// <param name="abstractName">Bind in the abstract namespace (NOTIFY_SOCKET=@name) rather than at a path.</param>
    public NotifyListener(bool abstractName = false)
    {
        _directory = Directory.CreateTempSubdirectory("dmp-notify-").FullName;
        string name = $"dmp-notify-{Guid.NewGuid():N}";
        Address = abstractName ? $"@{name}" : Path.Combine(_directory, "notify.sock");
        _socket.Bind(new UnixDomainSocketEndPoint(abstractName ? $"\0{name}" : Address));
        _receiver = new Thread(Receive) { IsBackground = true };
        _receiver.Start();
    }

    /// <summary>What NOTIFY_SOCKET is to say.</summary>
    public string Address { get; }

    public Action<string>? Arrived { get; set; }

    public IReadOnlyList<(TimeSpan At, string Message)> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>How long the listener has been listening: <see cref="Messages"/> are timed by this clock.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Waits until a notification has a line <paramref name="line"/>, and returns that notification.</summary>
    public string WaitFor(string line, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(20)))
        {
            if (Messages.FirstOrDefault(message => message.Message.Split('\n').Contains(line)).Message is { } found)
            {
                return found;
            }

            Thread.Sleep(10);
        }

        throw new TimeoutException($"no {line} in: {string.Join(" | ", Messages.Select(message => message.Message))}");
    }

    /// <summary>When each notification with the line <paramref name="line"/> came.</summary>
    public List<TimeSpan> Times(string line) =>
        [.. Messages.Where(message => message.Message.Split('\n').Contains(line)).Select(message => message.At)];

    public void Dispose()
    {
        _socket.Dispose();
        _receiver.Join();
        Directory.Delete(_directory, recursive: true);
    }

    private void Receive()
    {
        byte[] buffer = new byte[4096];
        while (true)
        {
            int length;
            try
            {
                length = _socket.Receive(buffer);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }

            string message = Encoding.UTF8.GetString(buffer, 0, length);
            Arrived?.Invoke(message);
            lock (_messages)
            {
                _messages.Add((_clock.Elapsed, message));
            }
        }
    }
}
