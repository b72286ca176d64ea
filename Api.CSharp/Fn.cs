namespace Hybrid; public static class Placeholder0 {}
