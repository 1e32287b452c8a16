using System.Text;

namespace Dmp.Stats;

/// <summary>Aligned columns: the first left-aligned (a name), the rest right-aligned (numbers).</summary>
internal static class Table
{
    /// <param name="textLast">The last column is free text, written as it is after the others.</param>
    public static string Format(IReadOnlyList<string[]> rows, bool textLast = false)
    {
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] row in rows)
        {
            for (int column = 0; column < row.Length; column++)
            {
                text.Append(
                    column == 0 ? row[column].PadRight(widths[column])
                    : textLast && column == row.Length - 1 ? "  " + row[column]
                    : " " + row[column].PadLeft(widths[column]));
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
