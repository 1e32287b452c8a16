using System.Text;

namespace Dmp.Stats;

/// <summary>Aligned columns: the first left-aligned (a name), the rest right-aligned (numbers).</summary>
internal static class Table
{
    public static string Format(IReadOnlyList<string[]> rows)
    {
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] row in rows)
        {
            for (int column = 0; column < row.Length; column++)
            {
                text.Append(column == 0 ? row[column].PadRight(widths[column]) : " " + row[column].PadLeft(widths[column]));
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
