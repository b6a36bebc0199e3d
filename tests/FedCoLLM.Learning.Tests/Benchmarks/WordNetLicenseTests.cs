using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class WordNetLicenseTests
{
    [Fact]
    public void Licence_is_the_WordNet_paragraph_of_a_Debian_copyright_file()
    {
        var text = Extract("""
            Files: *
            Copyright: © 1996-2012 Cognitive Science Laboratory Princeton University
            License: WordNet3.0
             Permission to use, copy, modify and distribute
             .
             WordNet 3.0 Copyright 2006 by Princeton University.
            
            Files: debian/*
            License: GPL-2+
             Not this one.
            """);

        Assert.Equal("Permission to use, copy, modify and distribute\n\nWordNet 3.0 Copyright 2006 by Princeton University.\n", text);
    }

    [Fact]
    public void Any_other_licence_file_is_copied_verbatim()
    {
        Assert.Equal("WordNet Release 3.0\n\nThis software and database is being provided\n", Extract("WordNet Release 3.0\r\n\r\nThis software and database is being provided\r\n"));
    }

    private static string Extract(string content)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, content);
            return WordNetLicense.Extract(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
