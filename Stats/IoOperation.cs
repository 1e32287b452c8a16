namespace Dmp.Stats;

/// <summary>The operations dmp counts, one counter set each. The block layer folds WriteZeroes into writes.</summary>
internal enum IoOperation
{
    Read,
    Write,
    WriteZeroes,
    Discard,
    Flush,
    Cache,
}
