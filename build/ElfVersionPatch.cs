// Makes TorchSharp 0.107's native shim load on systems whose libstdc++ predates GCC 13
// (Debian 12: highest GLIBCXX_3.4.30). libLibTorchSharp.so needs GLIBCXX_3.4.32 for exactly one
// symbol, std::ios_base_library_init(), which nothing calls at run time. Marking that version
// requirement weak (VER_FLG_WEAK in its Vernaux entry) turns glibc's refusal to load into a warning.
// See ../shared/research/platform-facts.md for the measurement. Used by build/TorchSharpNativeFix.targets
// (as an MSBuild inline task) and by the tests (compiled with ELF_PATCH_NO_TASK).
using System;
using System.IO;
using System.Text;

namespace FedCoLLM.Build
{
    public static class ElfVersionPatch
    {
        public const string MissingVersion = "GLIBCXX_3.4.32";
        const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>True when the system C++ runtime lacks <see cref="MissingVersion"/>, i.e. the patch is needed.</summary>
        public static bool SystemNeedsPatch()
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            };
            foreach (var path in candidates)
                if (File.Exists(path))
                    return !Contains(File.ReadAllBytes(path), Encoding.ASCII.GetBytes(MissingVersion + "\0"));
            return false; // no system libstdc++ found (not Linux/glibc): nothing to fix
        }

        /// <summary>Flags every Vernaux entry named <paramref name="version"/> as weak.
        /// Returns how many entries changed (0 when already patched or absent).</summary>
        public static int MarkVersionWeak(byte[] elf, string version)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only little-endian ELF64 is supported");

            ulong shoff = BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            int changed = 0;
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)shoff + i * shentsize);
                if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
                int link = (int)BitConverter.ToUInt32(elf, sh + 40);
                int strtab = checked((int)BitConverter.ToUInt64(elf, (int)shoff + link * shentsize + 24));
                int need = checked((int)BitConverter.ToUInt64(elf, sh + 24));
                int count = (int)BitConverter.ToUInt32(elf, sh + 44); // sh_info = number of Verneed entries
                for (int n = 0; n < count; n++)
                {
                    int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                    int auxCount = BitConverter.ToUInt16(elf, need + 2);
                    for (int a = 0; a < auxCount; a++)
                    {
                        int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if (CStringEquals(elf, name, version) && (flags & VerFlagWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, aux + 4);
                            changed++;
                        }
                        aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                    }
                    need += (int)BitConverter.ToUInt32(elf, need + 12);
                }
            }
            return changed;
        }

        /// <summary>Patches the file if needed, writing a new file so a hard link into the NuGet cache is never modified.</summary>
        public static bool PatchFile(string path)
        {
            var bytes = File.ReadAllBytes(path);
            if (MarkVersionWeak(bytes, MissingVersion) == 0) return false;
            var tmp = path + ".patching";
            File.WriteAllBytes(tmp, bytes);
            File.Delete(path); // unlinks rather than writes through a hard link into the NuGet cache
            File.Move(tmp, path);
            return true;
        }

        static bool CStringEquals(byte[] data, int offset, string s)
        {
            for (int i = 0; i < s.Length; i++)
                if (data[offset + i] != (byte)s[i]) return false;
            return data[offset + s.Length] == 0;
        }

        // Written out because inline MSBuild tasks compile against netstandard (no span IndexOf).
        static bool Contains(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }
    }

#if !ELF_PATCH_NO_TASK
    public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory) || !ElfVersionPatch.SystemNeedsPatch()) return true;
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
                if (ElfVersionPatch.PatchFile(file))
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"Marked {ElfVersionPatch.MissingVersion} weak in {file} (system libstdc++ predates GCC 13)");
            return true;
        }
    }
#endif
}
